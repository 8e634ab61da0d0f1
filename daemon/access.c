/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * access.c: the rules applied to connections and requests.
 *
 * The expensive part happens once per connection: its peer (uid, gid,
 * the uid's groups from getgrouplist(3), the token over TCP) is matched
 * against the rules it was accepted under, and the answer kept as a bit
 * per rule. When the first matching rule covers every name, which is
 * the case of the default rules and of any rule without a namespace, it
 * decides every request of the connection and the request path costs one
 * comparison (dispatch.c); otherwise each name walks the matching rules.
 *
 * A uid's name and groups are read through NSS, which may be slow (LDAP):
 * they are read at most once per IDENT_TTL_MS per uid with live
 * connections, and only when the rules need them or a message does.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "conf.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "server.h"

#define DENIED_BURST	10	/* log lines per second and uid */
/* How long a uid's name and groups are trusted before they are read again. */
#define IDENT_TTL_MS	60000

/* A uid's identity, as read through NSS. */
struct access_ident {
	char		*name;		/* user name, or the uid in decimal */
	bool		 has_pw;	/* the uid has a passwd entry */
	gid_t		*groups;	/* getgrouplist(3), primary first */
	int		 ngroups;
	uint64_t	 at_ms;		/* when read; 0 never */
};

int
access_policy(const struct conf *conf, struct policy **out, char *err,
    size_t errlen)
{
	int	ret;

	if (conf->rules[0] == '\0') {
		if ((ret = policy_default(geteuid(), out)) < 0)
			snprintf(err, errlen, "the default rules: %s",
			    strerror(-ret));
		return ret;
	}
	return policy_parse(conf->rules, out, err, errlen);
}

static void
ident_free(struct access_ident *id)
{
	free(id->name);
	free(id->groups);
	memset(id, 0, sizeof(*id));
}

/*
 * Read uid's name and groups again (into id) if they are older than the
 * TTL. Failures leave fewer groups, never more: the rules fail closed.
 */
static void
ident_refresh(struct access_ident *id, uid_t uid, uint64_t now)
{
	struct passwd	 pw, *pwp = NULL;
	char		 buf[4096], num[24];
	gid_t		*g;
	int		 n = 32, e;

	if (id->at_ms != 0 && now - id->at_ms < IDENT_TTL_MS)
		return;
	ident_free(id);
	id->at_ms = now != 0 ? now : 1;
	e = getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp);
	if (pwp == NULL) {
		if (e != 0)
			log_warnx("uid %ld: cannot read its passwd entry: %s",
			    (long)uid, strerror(e));
		snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
		id->name = strdup(num);
		return;
	}
	id->has_pw = true;
	id->name = strdup(pw.pw_name);
	for (;;) {
		if ((g = reallocarray(id->groups, (size_t)n, sizeof(*g))) ==
		    NULL)
			break;
		id->groups = g;
		e = n;
		if (getgrouplist(pw.pw_name, pw.pw_gid, g, &e) >= 0) {
			id->ngroups = e;
			break;
		}
		/* Too small: e is what it takes, within reason. */
		if (e <= n || e > NGROUPS_MAX) {
			log_warnx("uid %ld: cannot read its groups",
			    (long)uid);
			break;
		}
		n = e;
	}
	if (id->name == NULL)
		id->name = strdup("?");
}

/*
 * The identities read lately, by uid: a uid's are read at most once per
 * IDENT_TTL_MS even by a client that connects and disconnects in a
 * loop, and the cache is bounded (the oldest entry makes room).
 */
#define IDENT_CACHE	64

static struct ident_slot {
	uid_t			uid;
	struct access_ident	id;
} ident_cache[IDENT_CACHE];

void
access_cache_flush(void)
{
	int	i;

	for (i = 0; i < IDENT_CACHE; i++)
		ident_free(&ident_cache[i].id);
}

/*
 * The identity of c's uid, fresh enough, or NULL over TCP. Valid until
 * the next call: use it at once.
 */
static struct access_ident *
conn_ident(struct conn *c)
{
	struct ident_slot	*slot = NULL;
	int			 i;

	if ((c->flags & CONN_F_TCP) || c->uid == SERVER_UID_TCP)
		return NULL;
	for (i = 0; i < IDENT_CACHE; i++) {
		if (ident_cache[i].id.at_ms != 0 && ident_cache[i].uid ==
		    c->uid) {
			slot = &ident_cache[i];
			break;
		}
		if (slot == NULL || ident_cache[i].id.at_ms < slot->id.at_ms)
			slot = &ident_cache[i];
	}
	if (slot->uid != c->uid || slot->id.at_ms == 0) {
		ident_free(&slot->id);
		slot->uid = c->uid;
	}
	ident_refresh(&slot->id, c->uid, ev_now(c->srv->loop));
	return &slot->id;
}

/* The peer for matching, from c and (if not NULL) its uid's identity. */
static void
conn_peer(struct conn *c, const struct access_ident *id,
    struct policy_peer *p)
{
	memset(p, 0, sizeof(*p));
	if (c->flags & CONN_F_TCP) {
		p->listener = POLICY_L_TCP;
		p->token = (c->flags & CONN_F_AUTH) != 0;
		return;
	}
	p->listener = POLICY_L_UNIX;
	p->uid = c->uid;
	p->gid = c->gid;
	if (id != NULL) {
		p->user = id->name;
		p->groups = id->groups;
		p->ngroups = id->ngroups;
	}
}

/* Match c's peer against its rules. */
static void
conn_match(struct conn *c)
{
	struct conn_access	*a = &c->acc;
	struct access_ident	*id = NULL;
	struct policy_peer	 peer;
	struct policy_decision	 d;
	int			 first;

	if (policy_needs_groups(a->pol) || policy_needs_user(a->pol))
		id = conn_ident(c);
	conn_peer(c, id, &peer);
	policy_match(a->pol, &peer, &a->mask);
	first = policy_first_global(a->pol, &a->mask);
	a->all_role = first < 0 ? -1 : (int8_t)policy_rule_role(a->pol, first);
	policy_decide(a->pol, &a->mask, NULL, NULL, 0, &d);
	a->global = (int16_t)d.rule;
}

void
access_conn_start(struct conn *c)
{
	c->acc.pol = policy_ref(c->srv->policy);
	conn_match(c);
}

/*
 * The rules in force when it authenticates, not those it was accepted
 * under: a reload since then may have changed what the token gives.
 */
void
access_authenticated(struct conn *c)
{
	policy_unref(c->acc.pol);
	c->acc.pol = policy_ref(c->srv->policy);
	conn_match(c);
}

void
access_conn_end(struct conn *c)
{
	policy_unref(c->acc.pol);
	c->acc.pol = NULL;
}

bool
access_is_admin(const struct conn *c)
{
	return c->acc.global >= 0 &&
	    policy_rule_role(c->acc.pol, c->acc.global) >= POLICY_ADMIN;
}

/* "uid 1000 (alice)", "uid 1000", "tcp client (no token)". */
static void
principal(struct conn *c, char *buf, size_t len)
{
	const struct access_ident	*id;

	if (c->flags & CONN_F_TCP) {
		snprintf(buf, len, "tcp client (%s)",
		    (c->flags & CONN_F_AUTH) ? "token" : "no token");
		return;
	}
	id = conn_ident(c);
	if (id != NULL && id->has_pw)
		snprintf(buf, len, "uid %lu (%s)", (unsigned long)c->uid,
		    id->name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)c->uid);
}

/* A name for a message: at most 64 bytes, odd bytes as \xNN. */
static void
name_text(const uint8_t *p, size_t len, char *buf, size_t size)
{
	size_t	i, o = 0;

	for (i = 0; i < len && i < 64 && o + 5 < size; i++) {
		if (isprint(p[i]) && p[i] != '\\' && p[i] != '\'')
			buf[o++] = (char)p[i];
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x",
			    p[i]);
	}
	if (i < len && o + 4 < size)
		o += (size_t)snprintf(buf + o, size - o, "...");
	buf[o] = '\0';
}

/* "rule 3" or "the default rule 'unix all rw'". */
static void
rule_text(const struct policy *pol, int rule, char *buf, size_t len)
{
	if (policy_is_default(pol))
		snprintf(buf, len, "the default rule '%s'",
		    policy_rule_text(pol, rule));
	else
		snprintf(buf, len, "rule %d", rule + 1);
}

static void	deny_log(struct conn *, const char *);

static void
deny(struct conn *c, struct reply *r, const struct handler *h,
    const struct proto_arg *name, size_t len, bool under,
    const struct policy_decision *d)
{
	char	who[96], nm[300], by[POLICY_LINE_MAX + 32], on[200];
	char	what[400];

	principal(c, who, sizeof(who));
	if (name != NULL) {
		name_text(name->p, name->len, nm, sizeof(nm));
		snprintf(what, sizeof(what), "%s '%s'", proto_op_name(h->op),
		    nm);
	} else
		snprintf(what, sizeof(what), "%s", proto_op_name(h->op));
	if (d->rule < 0) {
		if (name != NULL && under) {
			name_text(name->p, len, nm, sizeof(nm));
			reply_error(r, IOMUX_ST_EDENIED, "%s: no rule grants "
			    "%s access to every name under '%s'", what, who,
			    nm);
		} else if (name != NULL)
			reply_error(r, IOMUX_ST_EDENIED, "%s: no rule grants "
			    "%s access to '%s'", what, who, nm);
		else
			reply_error(r, IOMUX_ST_EDENIED, "%s: no rule grants "
			    "%s access to every name", what, who);
	} else {
		rule_text(c->acc.pol, d->rule, by, sizeof(by));
		on[0] = '\0';
		if (d->prefix[0] != '\0')
			snprintf(on, sizeof(on), " on '%s'", d->prefix);
		reply_error(r, IOMUX_ST_EDENIED, "%s: %s has %s%s by %s", what,
		    who, policy_role_name(d->role), on, by);
	}
	c->srv->stats.requests_denied++;
	deny_log(c, what);
}

/*
 * A denial's log line, at most DENIED_BURST a second per uid (TCP
 * counting as one), saying how many were left out before it.
 */
static void
deny_log(struct conn *c, const char *what)
{
	static struct log_ratelimit	 rl_nouser;
	struct log_ratelimit		*rl = c->user != NULL ?
					    &c->user->rl_denied : &rl_nouser;
	char				 more[64] = "";
	char				 name[CONN_NAME_MAX];

	rl->burst = DENIED_BURST;
	if (!log_ratelimit_ok(rl, ev_now(c->srv->loop)))
		return;
	if (rl->dropped > 0) {
		snprintf(more, sizeof(more), " (and %llu not logged before)",
		    (unsigned long long)rl->dropped);
		rl->dropped = 0;
	}
	conn_name(c, name, sizeof(name));
	log_warnx("%s: denied %s%s", name, what, more);
}

/* May c do h on this name? Replies EDENIED if not. */
static bool
name_allowed(struct conn *c, const struct handler *h,
    const struct proto_arg *a, struct reply *r)
{
	struct conn_access		*acc = &c->acc;
	const struct access_ident	*id = NULL;
	struct policy_decision		 d;
	size_t				 len = a->len;

	bool				 under;

	if (a->absent)		/* the handler says what is wrong */
		return true;
	if (h->names == ACCESS_N_PATTERNS && len > 0 && a->p[len - 1] == '*')
		len--;
	if (policy_needs_user(acc->pol))
		id = conn_ident(c);
	under = h->names == ACCESS_N_PREFIX || h->names == ACCESS_N_PATTERNS;
	if (under) {
		/* Everything it would list or receive must be allowed. */
		if (policy_decide_prefix(acc->pol, &acc->mask, id != NULL ?
		    id->name : NULL, a->p, len, (enum policy_role)h->role, &d))
			return true;
	} else {
		policy_decide(acc->pol, &acc->mask, id != NULL ? id->name :
		    NULL, a->p, len, &d);
		if (d.rule >= 0 && d.role >= h->role)
			return true;
	}
	deny(c, r, h, a, len, under, &d);
	return false;
}

bool
access_check(struct conn *c, const struct handler *h,
    const struct proto_frame *f, const struct proto_arg *args,
    struct reply *r)
{
	struct policy_decision	d;
	int			i, n;

	switch (h->names) {
	case ACCESS_N_FIRST:
	case ACCESS_N_PREFIX:
		n = f->argc > 0 ? 1 : 0;
		break;
	case ACCESS_N_ALL:
	case ACCESS_N_PATTERNS:
		n = f->argc;
		break;
	default:
		memset(&d, 0, sizeof(d));
		d.rule = c->acc.global;
		if (d.rule >= 0) {
			d.role = policy_rule_role(c->acc.pol, d.rule);
			if (d.role >= h->role)
				return true;
		}
		deny(c, r, h, NULL, 0, false, &d);
		return false;
	}
	for (i = 0; i < n; i++)
		if (!name_allowed(c, h, &args[i], r))
			return false;
	return true;
}

void
access_whoami(struct conn *c, struct reply *r)
{
	const struct policy		*pol = c->acc.pol;
	const struct access_ident	*id;
	char				 buf[POLICY_LINE_MAX + 64], num[24];
	size_t				 off;
	int				 i, n;

	if (c->flags & CONN_F_TCP) {
		reply_pair(r, "listener", "tcp");
		reply_pair(r, "auth", (c->flags & CONN_F_AUTH) ? "token" :
		    "none");
		id = NULL;
	} else {
		id = conn_ident(c);
		reply_pair(r, "listener", "unix");
		reply_pair(r, "auth", "peer");
		reply_pair_u64(r, "uid", c->uid);
		if (id != NULL && id->has_pw)
			reply_pair(r, "user", id->name);
		reply_pair_u64(r, "gid", c->gid);
		/* The peer's gid first, then the uid's groups. */
		off = (size_t)snprintf(buf, sizeof(buf), "%lu",
		    (unsigned long)c->gid);
		for (i = 0; id != NULL && i < id->ngroups; i++) {
			if (id->groups[i] == c->gid)
				continue;
			n = snprintf(buf + off, sizeof(buf) - off, ",%lu",
			    (unsigned long)id->groups[i]);
			if (n < 0 || (size_t)n >= sizeof(buf) - off)
				break;
			off += (size_t)n;
		}
		reply_pair(r, "groups", buf);
		reply_pair_u64(r, "pid", (uint64_t)c->pid);
	}
	reply_pair(r, "rules", policy_is_default(pol) ? "default" : "config");
	for (i = 0; i < policy_nrules(pol); i++) {
		if (!policy_mask_has(&c->acc.mask, i))
			continue;
		if (policy_is_default(pol))
			snprintf(num, sizeof(num), "default");
		else
			snprintf(num, sizeof(num), "%d", i + 1);
		n = snprintf(buf, sizeof(buf), "%s ", num);
		policy_rule_grant(pol, i, id != NULL ? id->name : NULL,
		    buf + n, sizeof(buf) - (size_t)n);
		/* Whatever the rules, the reply fits one frame. */
		if (buf_len(r->enc.b) - r->enc.start + 2 * IOMUX_ARG_HDR_SIZE +
		    sizeof("grant") + strlen(buf) + 64 > r->enc.frame_max) {
			reply_pair(r, "grants_truncated", "yes");
			break;
		}
		reply_pair(r, "grant", buf);
	}
}
