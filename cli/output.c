/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * output.c: printers for iomuxctl, text and JSON. Printers only: no
 * decisions about exit codes or what to print, just how.
 *
 * Daemon values are arbitrary bytes. JSON requires valid UTF-8 and escaped
 * control characters, so each byte that is not part of a well-formed UTF-8
 * sequence (overlong forms, surrogates and code points past U+10FFFF
 * included) becomes \u00XX, the code point of the same number: lossy but
 * stable, and the output always parses. Text output escapes the same
 * bytes as \xNN so that a value can never move the cursor or change the
 * terminal's state.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

void
output_init(struct output *o, FILE *fp, int json, int quiet)
{
	o->fp = fp;
	o->json = json;
	o->quiet = quiet;
	o->nfields = 0;
	o->nitems = 0;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629, table 3-7 of
 * Unicode), or 0 if the byte at p does not start one.
 */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	uint8_t	 lo = 0x80, hi = 0xbf;
	size_t	 len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (n < len)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* output_text(), doubling '\\' or not (a message escaped already). */
static void
text(FILE *fp, const void *data, size_t len, int backslash)
{
	const uint8_t	*p = data;
	size_t		 i, n;

	for (i = 0; i < len; i += n) {
		n = utf8_len(p + i, len - i);
		if (n == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(fp, "\\x%02x", p[i]);
			n = 1;
		} else if (p[i] == '\\' && backslash)
			fputs("\\\\", fp);
		else
			fwrite(p + i, 1, n, fp);
	}
}

void
output_text(FILE *fp, const void *data, size_t len)
{
	text(fp, data, len, 1);
}

void
output_message(FILE *fp, const void *data, size_t len)
{
	text(fp, data, len, 0);
}

void
output_json_string(FILE *fp, const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 i, n;

	putc('"', fp);
	for (i = 0; i < len; i += n) {
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			fprintf(fp, "\\u%04x", p[i]);
			n = 1;
			continue;
		}
		switch (p[i]) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fprintf(fp, "\\u%04x", p[i]);
			else
				fwrite(p + i, 1, n, fp);
			break;
		}
	}
	putc('"', fp);
}

/* JSON number grammar without exponents: -?(0|[1-9][0-9]*)(\.[0-9]+)? */
int
output_is_number(const void *data, size_t len)
{
	const char	*p = data;
	size_t		 i = 0, start;

	if (i < len && p[i] == '-')
		i++;
	start = i;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == start || (p[start] == '0' && i - start > 1))
		return 0;
	if (i < len && p[i] == '.') {
		start = ++i;
		while (i < len && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	return i == len;
}

void
output_begin(struct output *o)
{
	o->nfields = 0;
	if (o->quiet || !o->json)
		return;
	putc('{', o->fp);
}

void
output_end(struct output *o)
{
	if (o->quiet || !o->json)
		return;
	fputs("}\n", o->fp);
}

/* The name part of a field: "name: " or ["," ]"name":. */
static void
field_name(struct output *o, const char *name)
{
	if (!o->json) {
		output_text(o->fp, name, strlen(name));
		fputs(": ", o->fp);
		return;
	}
	if (o->nfields++ > 0)
		putc(',', o->fp);
	output_json_string(o->fp, name, strlen(name));
	putc(':', o->fp);
}

static void
field(struct output *o, const char *name, const void *v, size_t len,
    int number)
{
	if (o->quiet)
		return;
	field_name(o, name);
	if (!o->json)
		output_text(o->fp, v, len);
	else if (number)
		fwrite(v, 1, len, o->fp);
	else
		output_json_string(o->fp, v, len);
	if (!o->json)
		putc('\n', o->fp);
}

void
output_field(struct output *o, const char *name, const void *v, size_t len)
{
	field(o, name, v, len, output_is_number(v, len));
}

void
output_field_str(struct output *o, const char *name, const char *s)
{
	field(o, name, s, strlen(s), 0);
}

void
output_field_num(struct output *o, const char *name, const char *num)
{
	field(o, name, num, strlen(num), 1);
}

void
output_field_numf(struct output *o, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	 num[64];

	va_start(ap, fmt);
	vsnprintf(num, sizeof(num), fmt, ap);
	va_end(ap);
	output_field_num(o, name, num);
}

int
output_is_utf8(const void *data, size_t len)
{
	const uint8_t	*p = data;
	size_t		 i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_len(p + i, len - i)) == 0)
			return 0;
	return 1;
}

/* RFC 4648 base64 with padding, as a JSON string (no escaping needed). */
static void
base64_string(FILE *fp, const void *data, size_t len)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t		*p = data;
	char			 q[4];
	uint32_t		 v;
	size_t			 i, n;

	putc('"', fp);
	/* Each group of 3 bytes (n, fewer at the end) is 4 characters. */
	for (i = 0; i < len; i += n) {
		n = len - i < 3 ? len - i : 3;
		v = (uint32_t)p[i] << 16;
		if (n > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (n > 2)
			v |= p[i + 2];
		q[0] = tab[v >> 18];
		q[1] = tab[(v >> 12) & 63];
		q[2] = n > 1 ? tab[(v >> 6) & 63] : '=';
		q[3] = n > 2 ? tab[v & 63] : '=';
		fwrite(q, 1, 4, fp);
	}
	putc('"', fp);
}

void
output_field_bytes(struct output *o, const char *name, const void *v,
    size_t len)
{
	char	 b64name[128];

	if (o->quiet)
		return;
	if (!o->json || output_is_utf8(v, len)) {
		field(o, name, v, len, 0);
		return;
	}
	snprintf(b64name, sizeof(b64name), "%s_base64", name);
	field_name(o, b64name);
	base64_string(o->fp, v, len);
}

void
output_list_begin(struct output *o, const char *name)
{
	if (o->quiet || !o->json)
		return;
	field_name(o, name);
	putc('[', o->fp);
	o->nitems = 0;
}

void
output_list_item(struct output *o, const void *v, size_t len, int number)
{
	if (o->quiet || !o->json)
		return;
	if (o->nitems++ > 0)
		putc(',', o->fp);
	if (number)
		fwrite(v, 1, len, o->fp);
	else
		output_json_string(o->fp, v, len);
}

void
output_list_end(struct output *o)
{
	if (o->quiet || !o->json)
		return;
	putc(']', o->fp);
}

int
output_raw(struct output *o, const void *v, size_t len, int newline)
{
	if (o->quiet || o->json)
		return 0;
	errno = 0;
	if ((len > 0 && fwrite(v, 1, len, o->fp) != len) ||
	    (newline && putc('\n', o->fp) == EOF))
		return errno != 0 ? -errno : -EIO;
	return 0;
}

void
output_printf(struct output *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->quiet || o->json)
		return;
	va_start(ap, fmt);
	vfprintf(o->fp, fmt, ap);
	va_end(ap);
}
