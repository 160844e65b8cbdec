/* `--serve http=DIR`: a static HTTP/1.1 server (RFC 9110, RFC 9112) written against
 * ipstack's sockets as one would write it against the kernel's: blocking ips_recv /
 * ips_send on a connection of its own thread (tools/serve_tcp.c).
 *
 * What it does: GET and HEAD of regular files under DIR (a directory's index.html),
 * Content-Length always (no chunking), keep-alive by default for HTTP/1.1 and on
 * request for HTTP/1.0, "Connection: close" honoured, pipelined requests answered in
 * order. Errors: 400 (malformed request line or headers, headers over 16 KiB), 404 (no
 * such file, or a path that would leave DIR), 405 with Allow for other methods on a
 * known path, 501 for unknown methods, 505 for HTTP/2+. Request bodies are not
 * accepted (Content-Length > 0 or chunked -> 400 and close). */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipstack/ipstack.h"

#define HTTP_HDR_MAX 16384
#define HTTP_BODY_CHUNK (256 * 1024)

int http_check_root(const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	return 0;
}

/* Send all of buf (blocking; the socket's send time-out lets *stop end it). */
static int send_all(int fd, const void *buf, size_t len, const atomic_bool *stop)
{
	const char *p = buf;

	while (len) {
		ssize_t n = ips_send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if ((errno == EAGAIN || errno == EINTR) && !atomic_load(stop))
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html" }, { ".htm", "text/html" }, { ".txt", "text/plain" },
		{ ".css", "text/css" }, { ".js", "text/javascript" },
		{ ".json", "application/json" }, { ".png", "image/png" },
		{ ".jpg", "image/jpeg" }, { ".gif", "image/gif" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* An error response with a short text body. */
static int send_error(int fd, int code, bool keep, bool head, const atomic_bool *stop)
{
	char body[128], hdr[512];
	int blen = snprintf(body, sizeof(body), "%d %s\n", code, reason(code));
	int hlen = snprintf(hdr, sizeof(hdr),
			    "HTTP/1.1 %d %s\r\nServer: ipstack\r\nContent-Type: text/plain\r\n"
			    "Content-Length: %d\r\n%s%s\r\n",
			    code, reason(code), blen, code == 405 ? "Allow: GET, HEAD\r\n" : "",
			    keep ? "" : "Connection: close\r\n");

	if (send_all(fd, hdr, (size_t)hlen, stop) < 0)
		return -1;
	if (!head && send_all(fd, body, (size_t)blen, stop) < 0)
		return -1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The request target as a path under root, or -1 (400) / -2 (404: escapes the root). */
static int map_path(const char *root, const char *target, char *out, size_t outlen)
{
	char dec[4096];
	size_t n = 0;

	if (target[0] != '/')
		return -1;	/* origin-form only */
	for (const char *p = target; *p && *p != '?' && *p != '#'; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);

			if (l < 0)
				return -1;
			c = h * 16 + l;
			p += 2;
		}
		if (c == 0 || n + 1 >= sizeof(dec))
			return -1;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	/* No ".." segment may climb out of the root. */
	for (char *s = dec; (s = strstr(s, "..")) != NULL; s += 2)
		if ((s == dec || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return -2;
	if ((size_t)snprintf(out, outlen, "%s%s", root, dec) >= outlen)
		return -1;
	return 0;
}

/* Header value of name in the header block (lines after the request line), or NULL;
 * val gets a copy. */
static bool header(const char *hdrs, const char *name, char *val, size_t vlen)
{
	size_t nl = strlen(name);

	for (const char *l = hdrs; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1, *e = strstr(v, "\r\n");
			size_t k;

			while (*v == ' ' || *v == '\t')
				v++;
			k = e ? (size_t)(e - v) : strlen(v);
			while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				k--;
			if (k >= vlen)
				k = vlen - 1;
			memcpy(val, v, k);
			val[k] = '\0';
			return true;
		}
	}
	return false;
}

static bool has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);

	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncasecmp(p, tok, tl) && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

/* Answer one request (the header block, NUL-terminated). Returns 1 to keep the
 * connection, 0 to close it, -1 on a send error. */
static int handle(int fd, const char *root, char *req, const atomic_bool *stop, char *buf)
{
	char method[16], target[4096], version[16], val[256], path[8192];
	char *hdrs = strstr(req, "\r\n");
	int minor = 0, major = 0;
	bool keep, head;
	struct stat sb;

	if (!hdrs)
		return send_error(fd, 400, false, false, stop) < 0 ? -1 : 0;
	*hdrs = '\0';
	hdrs += 2;
	if (sscanf(req, "%15s %4095s %15s", method, target, version) != 3 ||
	    sscanf(version, "HTTP/%d.%d", &major, &minor) != 2)
		return send_error(fd, 400, false, false, stop) < 0 ? -1 : 0;
	if (major != 1)
		return send_error(fd, 505, false, false, stop) < 0 ? -1 : 0;
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	keep = minor >= 1;
	if (header(hdrs, "Connection", val, sizeof(val))) {
		if (has_token(val, "close"))
			keep = false;
		else if (has_token(val, "keep-alive"))
			keep = true;
	}
	if (minor >= 1 && !header(hdrs, "Host", val, sizeof(val)))
		return send_error(fd, 400, false, false, stop) < 0 ? -1 : 0;	/* RFC 9112 3.2 */
	if (header(hdrs, "Transfer-Encoding", val, sizeof(val)) ||
	    (header(hdrs, "Content-Length", val, sizeof(val)) && strtol(val, NULL, 10) != 0))
		return send_error(fd, 400, false, false, stop) < 0 ? -1 : 0;
	head = !strcmp(method, "HEAD");
	int r = map_path(root, target, path, sizeof(path));

	if (r == -1)
		return send_error(fd, 400, false, head, stop) < 0 ? -1 : 0;
	if (r == 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		size_t pl = strlen(path);

		snprintf(path + pl, sizeof(path) - pl, "%sindex.html",
			 pl && path[pl - 1] == '/' ? "" : "/");
	}
	bool found = r == 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);

	if (strcmp(method, "GET") && !head) {
		static const char *const known[] = { "POST", "PUT", "DELETE", "OPTIONS",
						     "PATCH", "TRACE", "CONNECT" };
		bool k = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			k |= !strcmp(method, known[i]);
		if (send_error(fd, k && found ? 405 : (k ? 404 : 501), keep, false, stop) < 0)
			return -1;
		return keep;
	}
	if (!found)
		return send_error(fd, 404, keep, head, stop) < 0 ? -1 : keep;
	int file = open(path, O_RDONLY | O_CLOEXEC);

	if (file < 0)
		return send_error(fd, 404, keep, head, stop) < 0 ? -1 : keep;
	int hlen = snprintf(buf, HTTP_BODY_CHUNK,
			    "HTTP/1.1 200 OK\r\nServer: ipstack\r\nContent-Type: %s\r\n"
			    "Content-Length: %lld\r\n%s\r\n",
			    content_type(path), (long long)sb.st_size,
			    keep ? "" : "Connection: close\r\n");
	int rc = send_all(fd, buf, (size_t)hlen, stop);

	for (off_t left = head ? 0 : sb.st_size; rc == 0 && left > 0;) {
		ssize_t n = read(file, buf, left < HTTP_BODY_CHUNK ? (size_t)left : HTTP_BODY_CHUNK);

		if (n <= 0) {
			rc = -1;	/* the file shrank: the length we promised is a lie */
			break;
		}
		rc = send_all(fd, buf, (size_t)n, stop);
		left -= n;
	}
	close(file);
	return rc < 0 ? -1 : keep;
}

void http_serve_conn(int fd, const char *root, const atomic_bool *stop)
{
	char *in = malloc(HTTP_HDR_MAX + 1);
	char *buf = malloc(HTTP_BODY_CHUNK);
	size_t have = 0;

	if (!in || !buf)
		goto out;
	while (!atomic_load(stop)) {
		char *end;

		in[have] = '\0';
		while ((end = strstr(in, "\r\n\r\n")) == NULL) {
			ssize_t n;

			if (have == HTTP_HDR_MAX) {
				send_error(fd, 400, false, false, stop);
				goto out;
			}
			n = ips_recv(fd, in + have, HTTP_HDR_MAX - have, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (atomic_load(stop))
					goto out;
				continue;
			}
			if (n <= 0)
				goto out;	/* closed (or reset) by the client */
			have += (size_t)n;
			in[have] = '\0';
		}
		size_t used = (size_t)(end - in) + 4;

		end[2] = '\0';	/* the block ends with its last header's CRLF */
		int keep = handle(fd, root, in, stop, buf);

		if (keep <= 0)
			break;
		memmove(in, in + used, have - used);	/* pipelined requests */
		have -= used;
	}
	/* A close with unread data would be a RST (RFC 2525 2.17): half-close first so
	 * that the last response arrives whole, as servers do ("lingering close"). */
	ips_shutdown(fd, SHUT_WR);
out:
	free(in);
	free(buf);
}
