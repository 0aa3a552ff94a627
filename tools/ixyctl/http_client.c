/* http_client.c: see http_client.h. */
#define _GNU_SOURCE
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_MAX_RESPONSE (512u << 20) /* bytes: a full route table listing is ~100 MB */

int http_parse_base(const char *base, char *host, size_t hostlen, unsigned *port)
{
	static const char scheme[] = "http://";
	if (strncmp(base, scheme, sizeof(scheme) - 1) != 0)
		return -EINVAL;
	const char *h = base + sizeof(scheme) - 1, *end;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		h++;
	} else {
		end = strchr(h, ':');
		if (!end)
			return -EINVAL;
	}
	if ((size_t)(end - h) >= hostlen || end == h)
		return -EINVAL;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	const char *p = end + (*end == ']' ? 2 : 1);
	char *stop;
	unsigned long v = strtoul(p, &stop, 10);
	if (stop == p || v == 0 || v > 65535 || (*stop && strcmp(stop, "/") != 0))
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

static int connect_to(const char *host, unsigned port, int timeout_ms, int *fd_out)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto err;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int r = poll(&p, 1, timeout_ms);
		socklen_t elen = sizeof(err);
		if (r == 0) {
			err = -ETIMEDOUT;
			goto err;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
			err = -errno;
			goto err;
		}
		if (err) {
			err = -err;
			goto err;
		}
	}
	/* Blocking from here on, each read and write bounded by the timeout. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fd_out = fd;
	return 0;
err:
	close(fd);
	return err;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPROTO;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until the server closes (we asked for Connection: close). */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n + 1 == cap) {
			if (cap >= HTTP_MAX_RESPONSE) {
				free(buf);
				return -EPROTO;
			}
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Decode a chunked body in place (RFC 9112 7.1); returns the decoded length or -EPROTO. */
static long dechunk(char *b, size_t len)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *end;
		unsigned long n = strtoul(b + in, &end, 16);
		char *crlf = strstr(end, "\r\n");
		if (end == b + in || !crlf)
			return -EPROTO;
		in = (size_t)(crlf - b) + 2;
		if (n == 0)
			return (long)out;
		if (in + n + 2 > len)
			return -EPROTO;
		memmove(b + out, b + in, n);
		out += n;
		in += n + 2;
	}
}

int http_request(const char *base, const char *method, const char *path, const char *body,
		 int timeout_ms, struct http_response *resp)
{
	char host[64], *head = NULL, *raw = NULL;
	unsigned port;
	size_t raw_len = 0;
	int fd = -1;
	int err = http_parse_base(base, host, sizeof(host), &port);
	if (err)
		return err;
	err = connect_to(host, port, timeout_ms, &fd);
	if (err)
		return err;
	size_t blen = body ? strlen(body) : 0;
	int hl = asprintf(
	    &head,
	    "%s %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUser-Agent: ixyctl\r\n"
	    "Accept: application/json\r\nConnection: close\r\n%s%zu\r\n\r\n",
	    method, path, strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port,
	    body ? "Content-Type: application/json\r\nContent-Length: " : "Content-Length: ", blen);
	if (hl < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = send_all(fd, head, (size_t)hl);
	if (!err && body)
		err = send_all(fd, body, blen);
	if (!err)
		err = read_all(fd, &raw, &raw_len);
	if (err)
		goto out;
	/* Status line, headers, body. */
	int status;
	char *hdr_end = strstr(raw, "\r\n\r\n");
	if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1 || !hdr_end) {
		err = -EPROTO;
		goto out;
	}
	*hdr_end = '\0';
	char *payload = hdr_end + 4;
	size_t plen = raw_len - (size_t)(payload - raw);
	bool chunked = false;
	for (char *line = strstr(raw, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
			chunked = true;
	}
	if (chunked) {
		long n = dechunk(payload, plen);
		if (n < 0) {
			err = -EPROTO;
			goto out;
		}
		plen = (size_t)n;
	}
	memmove(raw, payload, plen);
	raw[plen] = '\0';
	resp->status = status;
	resp->body = raw;
	resp->len = plen;
	raw = NULL;
out:
	free(raw);
	free(head);
	close(fd);
	return err;
}
