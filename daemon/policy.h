/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * policy.h: who may do what. The rules of iomuxd.conf(5), parsed into an
 * immutable, reference-counted set that connections share: each matches
 * a listener and a principal (peer credentials on UNIX sockets, the
 * token over TCP) and grants a role over a namespace of name prefixes.
 * First match wins, as in pg_hba.conf.
 *
 * Nothing here knows connections or sockets: a peer is described by
 * struct policy_peer, which the daemon fills from SO_PEERCRED and
 * getgrouplist(3) (access.c), so the rules are tested without either.
 */

#ifndef IOMUXD_POLICY_H
#define IOMUXD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define POLICY_RULES_MAX	128
#define POLICY_PREFIXES_MAX	8	/* per rule */
#define POLICY_PREFIX_MAX	128	/* bytes, as written */
#define POLICY_LINE_MAX		1024	/* one rule */
#define POLICY_TEXT_MAX		(16u << 10)	/* all rule lines */

/* Roles, ordered: each grants what the ones below it grant. */
enum policy_role {
	POLICY_NONE,
	POLICY_RO,
	POLICY_RW,
	POLICY_ADMIN
};

/* Listeners, as a mask in a rule. */
#define POLICY_L_UNIX	0x1
#define POLICY_L_TCP	0x2

/* What a rule is matched against. */
struct policy_peer {
	unsigned int	 listener;	/* POLICY_L_UNIX or POLICY_L_TCP */
	bool		 token;		/* TCP: the right token was given */
	uid_t		 uid;		/* UNIX: peer credentials */
	gid_t		 gid;
	const gid_t	*groups;	/* UNIX: supplementary groups */
	int		 ngroups;
	/* For %u: the user name, or the uid in decimal; NULL over TCP. */
	const char	*user;
};

/* The rules that match one peer, one bit per rule. */
struct policy_mask {
	uint64_t	 w[(POLICY_RULES_MAX + 63) / 64];
};

struct policy;

/*
 * Parse rule lines ("LISTENER PRINCIPAL ROLE [PREFIX...]", one per line,
 * as iomuxd.conf(5) describes; user and group names are resolved now).
 * 0 and a policy with one reference, or -EINVAL with "rule N: why" in
 * err (-ENOMEM). An empty text is -EINVAL: see policy_default().
 */
int	policy_parse(const char *text, struct policy **out, char *err,
	    size_t errlen);
/* Check one rule line: 0 or -EINVAL with the reason in err. */
int	policy_check_rule(const char *line, char *err, size_t errlen);
/*
 * The rules in force when the configuration has none: root and the
 * daemon's own uid (self) get admin, other UNIX peers rw (whoever the
 * socket's file mode lets in), TCP clients rw once they give the token.
 */
int	policy_default(uid_t self, struct policy **out);

struct policy	*policy_ref(struct policy *);
void		 policy_unref(struct policy *);	/* NULL is fine */

int	policy_nrules(const struct policy *);
/* Are these the default rules (policy_default)? */
bool	policy_is_default(const struct policy *);
/* Does any rule need the peer's groups (gid, group) or its name (%u)? */
bool	policy_needs_groups(const struct policy *);
bool	policy_needs_user(const struct policy *);

/* The rules whose listener and principal match the peer. */
void	policy_match(const struct policy *, const struct policy_peer *,
	    struct policy_mask *);

/* What decided a request. */
struct policy_decision {
	int			 rule;	/* index, or -1: no rule */
	enum policy_role	 role;	/* POLICY_NONE without a rule */
	/* The prefix that matched, %u expanded ("" for every name). */
	char			 prefix[POLICY_PREFIX_MAX + 64];
};

/*
 * Decide for a request on a name (or, name NULL, one without a name):
 * the first rule in the mask whose namespace covers the name (for no
 * name: the first that covers every name). user is the peer's, for %u.
 */
void	policy_decide(const struct policy *, const struct policy_mask *,
	    const char *user, const uint8_t *name, size_t len,
	    struct policy_decision *);
/*
 * Decide for a request on every name that starts with q (KEYS lists
 * them, PSUBSCRIBE receives them): true if the rules give each of them
 * at least need. d says which rule decided: the one that denied some of
 * them (rule -1 if some are decided by no rule), or the one that allowed
 * the last of them.
 */
bool	policy_decide_prefix(const struct policy *, const struct policy_mask *,
	    const char *user, const uint8_t *q, size_t len,
	    enum policy_role need, struct policy_decision *);
/*
 * The index of the first rule in the mask, if it covers every name (then
 * it decides every request of the peer), else -1.
 */
int	policy_first_global(const struct policy *, const struct policy_mask *);
enum policy_role	policy_rule_role(const struct policy *, int rule);
/* The rule as written, words separated by one space. */
const char	*policy_rule_text(const struct policy *, int rule);
/*
 * "ROLE PREFIX..." of a rule with %u expanded for user, "*" for every
 * name ("rw deploy/ ops/"): WHOAMI's grant. Always NUL-terminated.
 */
void	policy_rule_grant(const struct policy *, int rule, const char *user,
	    char *buf, size_t len);

const char	*policy_role_name(enum policy_role);

static inline bool
policy_mask_has(const struct policy_mask *m, int i)
{
	return (m->w[i / 64] >> (i % 64)) & 1;
}

#endif /* IOMUXD_POLICY_H */
