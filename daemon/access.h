/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * access.h: the policy (policy.h) applied to connections: which rules a
 * connection was accepted under and which of them match its peer, each
 * request checked against them before its handler runs, EDENIED with the
 * rule that decided, WHOAMI, and the per-uid identity (user name, groups)
 * the rules are matched on, cached here.
 */

#ifndef IOMUXD_ACCESS_H
#define IOMUXD_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "codec.h"
#include "policy.h"

struct conf;
struct conn;
struct handler;
struct reply;
struct server;
struct server_user;

/* Which arguments of a request are names the rules must cover. */
enum access_names {
	ACCESS_N_NONE,		/* none: decided by the global rule */
	ACCESS_N_FIRST,		/* the first argument */
	ACCESS_N_ALL,		/* every argument */
	/*
	 * Prefixes: every name under them must be allowed (a request that
	 * lists or receives them). The first argument (KEYS), or every
	 * argument less its trailing '*' (PSUBSCRIBE).
	 */
	ACCESS_N_PREFIX,
	ACCESS_N_PATTERNS
};

/* A connection's side: 32 bytes, set at accept (access_conn_start). */
struct conn_access {
	struct policy		*pol;	/* the rules it was accepted under */
	struct policy_mask	 mask;	/* the ones that match its peer */
	/* The role of the first matching rule if it covers every name
	 * (it decides every request), else -1. */
	int8_t			 all_role;
	int16_t			 global;	/* the rule for requests
						   without a name, or -1 */
};

/*
 * The rules of a configuration: its rule lines, or the defaults when it
 * has none. 0 or -errno with a sentence in err.
 */
int	access_policy(const struct conf *, struct policy **out, char *err,
	    size_t errlen);

/* Take the rules in force for a new connection and match its peer. */
void	access_conn_start(struct conn *);
/* The TCP connection gave the right token: match its peer again. */
void	access_authenticated(struct conn *);
void	access_conn_end(struct conn *);

/* Forget every user name and group list read (at teardown). */
void	access_cache_flush(void);

/* Checked by dispatch_request() for a request whose handler needs more
 * than POLICY_NONE. Slow path of access_allowed(). */
bool	access_check(struct conn *, const struct handler *,
	    const struct proto_frame *, const struct proto_arg *,
	    struct reply *);

/* Is the global role of c at least admin (STATUS details)? */
bool	access_is_admin(const struct conn *);

/* WHOAMI's reply pairs. */
void	access_whoami(struct conn *, struct reply *);

#endif /* IOMUXD_ACCESS_H */
