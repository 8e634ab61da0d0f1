/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * output.h: iomuxctl's printers. Text is "name: value" lines; JSON is one
 * object per record (one line each, so a stream is JSON Lines). The same
 * content is printed whether or not stdout is a terminal. Values are byte
 * strings from the daemon and are escaped, never trusted: text output
 * shows control bytes and invalid UTF-8 as \xNN (and '\' as "\\"); JSON
 * strings escape them as \u00XX.
 */

#ifndef IOMUXD_OUTPUT_H
#define IOMUXD_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

struct output {
	FILE	*fp;
	int	 json;
	int	 quiet;		/* print nothing at all */
	int	 nfields;	/* fields in the open JSON object */
	int	 nitems;	/* items in the open JSON array */
};

void	output_init(struct output *, FILE *, int json, int quiet);

/* A record: JSON "{...}\n"; nothing in text mode (fields are lines). */
void	output_begin(struct output *);
void	output_end(struct output *);

/*
 * One field. output_field() decides: a value that is a decimal integer or
 * decimal fraction ("42", "-1", "1.27") is a JSON number, anything else a
 * string. output_field_str() always makes a string; output_field_num()
 * takes preformatted number text (the caller guarantees the syntax).
 */
void	output_field(struct output *, const char *name, const void *, size_t);
void	output_field_str(struct output *, const char *name, const char *);
void	output_field_num(struct output *, const char *name, const char *);
/* output_field_num() of a number formatted as by printf(3). */
void	output_field_numf(struct output *, const char *name, const char *,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * A field holding bytes from the daemon (a value, a key, a payload): a
 * JSON string under 'name' when they are valid UTF-8, else their base64
 * (RFC 4648, padded) under "<name>_base64", so that nothing is lost. In
 * text mode a "name: value" line, escaped as by output_text().
 */
void	output_field_bytes(struct output *, const char *name, const void *,
	    size_t);

/*
 * A field whose value is a JSON array: output_list_begin(), then one
 * output_list_item() per element, a JSON number when 'number' (the
 * caller guarantees the syntax) and else a string, then
 * output_list_end(). JSON only: in text mode they print nothing, and the
 * caller prints the list as it reads best there (a line per element, or
 * one field).
 */
void	output_list_begin(struct output *, const char *name);
void	output_list_item(struct output *, const void *, size_t, int number);
void	output_list_end(struct output *);

/*
 * Bytes exactly as given, then '\n' if 'newline': text mode only (the
 * payload of get, pop, sub...). Returns 0, or -errno of the failed write
 * (-EPIPE when the reader went away).
 */
int	output_raw(struct output *, const void *, size_t, int newline);

/* Free-form text line(s), printed in text mode only. */
void	output_printf(struct output *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Escapers, usable on any stream (e.g. stderr for daemon messages). */
void	output_text(FILE *, const void *, size_t);
/*
 * A daemon's error message: output_text() but for '\\', which is left
 * alone, since the daemon shows the bytes of names in its messages as
 * \\xNN already (a denial's "get 'a\\x01'"); control bytes and invalid
 * UTF-8 are still escaped, so that a message cannot drive the terminal.
 */
void	output_message(FILE *, const void *, size_t);
void	output_json_string(FILE *, const void *, size_t);
/* 1 if the bytes are well-formed UTF-8 (NUL and controls included). */
int	output_is_utf8(const void *, size_t);
/* 1 if the bytes are a JSON-compatible decimal integer or fraction. */
int	output_is_number(const void *, size_t);

#endif /* IOMUXD_OUTPUT_H */
