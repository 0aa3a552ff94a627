/*
 * fuzz_api_routes: api/api_parse.c's route-list parsing on arbitrary bodies. The first byte's
 * low bit is API_ROUTES_ALLOW_SINGLE, the rest the body. api_parse.c is compiled in (its two
 * parsers are static), as in tests/api/test_api_parse.c, whose property this is: wherever the
 * hand-written scanner decides a body (accepts it, or rejects it with -EINVAL), jansson decides
 * it the same way (the same routes, or the same message and route index), and
 * api_parse_routes() answers what the deciding parser answered. Any difference is an abort().
 */
#include "api_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct way {
	int rc;
	struct route_vec v;
	bool single;
	struct api_parse_error e;
};

static void run_way(bool fast, const char *body, size_t len, unsigned flags, struct way *w)
{
	*w = (struct way){.e.index = SIZE_MAX};
	w->rc = (fast ? parse_fast : parse_json)(body, len, flags, &w->v, &w->single, &w->e);
	if (w->rc)
		w->v.n = 0; /* what api_parse_routes() does with a declined or failed parse */
}

static bool same_way(const struct way *a, const struct way *b)
{
	if (a->rc != b->rc)
		return false;
	if (a->rc != 0)
		return a->e.index == b->e.index && strcmp(a->e.message, b->e.message) == 0;
	if (a->single != b->single || a->v.n != b->v.n)
		return false;
	for (size_t i = 0; i < a->v.n; i++)
		if (a->v.r[i].prefix != b->v.r[i].prefix || a->v.r[i].len != b->v.r[i].len ||
		    a->v.r[i].gw != b->v.r[i].gw)
			return false;
	return true;
}

static void print_way(const char *name, const struct way *w)
{
	fprintf(stderr, "  %s: rc %d, %zu routes%s, error [%zu] \"%s\"\n", name, w->rc, w->v.n,
		w->single ? " (single)" : "", w->e.index, w->e.message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0] & API_ROUTES_ALLOW_SINGLE;
	size_t len = size - 1;
	char *body = malloc(len ? len : 1); /* exactly the body: ASan sees a read past it */
	if (!body)
		return 0;
	memcpy(body, data + 1, len);

	struct way f, j, pub = {.e.index = SIZE_MAX};
	run_way(true, body, len, flags, &f);
	run_way(false, body, len, flags, &j);
	struct control_route *r = NULL;
	pub.rc = api_parse_routes(body, len, flags, &r, &pub.v.n, &pub.single, &pub.e);
	pub.v.r = r;
	const struct way *want = f.rc == -EAGAIN ? &j : &f;
	bool ok = same_way(&pub, want) && (f.rc == -EAGAIN || same_way(&f, &j));
	if (!ok) {
		fprintf(stderr, "route body (flags %u) answered differently: %.*s\n", flags,
			(int)(len > 400 ? 400 : len), body);
		print_way("scanner", &f);
		print_way("jansson", &j);
		print_way("api_parse_routes", &pub);
		abort();
	}
	free(f.v.r);
	free(j.v.r);
	free(r);
	free(body);
	return 0;
}
