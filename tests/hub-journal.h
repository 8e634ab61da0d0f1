/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * hub-journal.h: a journal (hub.h, struct hub_journal) for the hub's unit
 * tests (check_kv, check_queue): it writes what it is told as text, one
 * line per change, "SET k v @1000300", so that a test compares what the
 * hub told with what the change was. Printable bytes as they are, others
 * as \xNN; deadlines as @ms (@0: none). Included once per test program.
 */

#ifndef IOMUXD_HUB_JOURNAL_H
#define IOMUXD_HUB_JOURNAL_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "hub.h"
#include "iomux-proto.h"

static char	told[8192];	/* the lines, in order */

static void
told_bytes(const void *p, size_t len)
{
	const uint8_t	*b = p;
	size_t		 i, o = strlen(told);

	for (i = 0; i < len && o + 5 < sizeof(told); i++)
		o += (size_t)(isprint(b[i]) && b[i] != ' ' ?
		    snprintf(told + o, sizeof(told) - o, "%c", b[i]) :
		    snprintf(told + o, sizeof(told) - o, "\\x%02x", b[i]));
}

static void
journal_emit(void *arg, uint16_t kind, const void *name, size_t nlen,
    const struct proto_arg *args, int n)
{
	const char	*k;
	uint64_t	 v;
	size_t		 i;
	int		 a;

	switch (kind) {
	case IOMUX_OP_SET:	k = "SET"; break;
	case IOMUX_OP_DEL:	k = "DEL"; break;
	case IOMUX_OP_EXPIRE:	k = "EXPIRE"; break;
	case IOMUX_OP_PERSIST:	k = "PERSIST"; break;
	case IOMUX_OP_PUSH:	k = "PUSH"; break;
	case IOMUX_OP_POP:	k = "POP"; break;
	case HUB_J_PUSHFRONT:	k = "PUSHFRONT"; break;
	default:		k = "?"; break;
	}
	snprintf(told + strlen(told), sizeof(told) - strlen(told), "%s ", k);
	told_bytes(name, nlen);
	for (a = 0; a < n; a++) {
		snprintf(told + strlen(told), sizeof(told) - strlen(told), " ");
		/* SET's last argument and EXPIRE's only one are deadlines. */
		if ((kind == IOMUX_OP_SET && a == 1) ||
		    kind == IOMUX_OP_EXPIRE) {
			for (v = 0, i = 0; i < args[a].len; i++)
				v = v << 8 | args[a].p[i];
			snprintf(told + strlen(told), sizeof(told) -
			    strlen(told), "@%llu", (unsigned long long)v);
		} else
			told_bytes(args[a].p, args[a].len);
	}
	snprintf(told + strlen(told), sizeof(told) - strlen(told), "\n");
}

static const struct hub_journal	jrn = { journal_emit, NULL };

/* What was told since the last call, then forget it. */
static void
told_is(const char *want)
{
	ck_assert_str_eq(told, want);
	told[0] = '\0';
}

#endif /* IOMUXD_HUB_JOURNAL_H */
