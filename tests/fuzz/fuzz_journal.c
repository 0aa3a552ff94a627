/*
 * fuzz_journal: the state journal's replay parser (api/journal.h) and record decoder
 * (api/api_state_record.h) on arbitrary bytes: no crash, no read past the image, and every
 * record handed out lies inside it and decodes or is refused cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_state_record.h"
#include "journal.h"

struct ctx {
	const uint8_t *base;
	size_t len;
};

static int on_record(void *arg, const char *p, size_t len)
{
	struct ctx *c = arg;
	if ((const uint8_t *)p < c->base || (const uint8_t *)p + len > c->base + c->len)
		abort(); /* a record outside the image: a parser bug, which is what we hunt */
	struct state_change ch;
	char why[128];
	if (state_record_decode(p, len, NULL, &ch, why, sizeof(why)) == 0)
		state_change_free(&ch);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan sees any read past the end. */
	uint8_t *img = malloc(size ? size : 1);
	if (!img)
		return 0;
	memcpy(img, data, size);
	struct ctx c = {img, size};
	struct journal_scan sc;
	journal_parse(img, size, on_record, &c, &sc);
	if (sc.good_bytes > size || sc.records > size)
		abort();
	/* The payload alone as a record, too (the decoder also reads snapshot-like objects). */
	struct state_change ch;
	char why[128];
	if (state_record_decode((const char *)img, size, NULL, &ch, why, sizeof(why)) == 0)
		state_change_free(&ch);
	free(img);
	return 0;
}
