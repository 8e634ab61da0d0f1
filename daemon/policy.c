/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * policy.c: the access rules: parsing, matching a peer, deciding a
 * request.
 *
 * A policy is built once (at start or reload) and never changes, so a
 * connection can keep the one it was accepted under by holding a
 * reference, and its per-peer part (which rules match at all) is
 * computed once per connection (policy_match) instead of per request.
 * A request then only walks the matching rules for the first whose
 * namespace covers its name. Names are resolved to ids when the rules
 * are read: a user or group that does not exist is an error then, not a
 * rule that silently never matches.
 *
 * Everything fails closed: no matching rule is a denial, and a peer
 * whose groups could not all be read is judged on the ones that were.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

enum who {
	WHO_ALL,
	WHO_UID,
	WHO_GID,
	WHO_TOKEN,	/* TCP, authenticated */
	WHO_ANON	/* TCP, not authenticated */
};

/*
 * A prefix as bytes, with VAR_MARK where "%u" was written: text lines
 * cannot hold a NUL, so the mark is unambiguous.
 */
#define VAR_MARK	'\0'

struct prefix {
	char		*s;
	uint16_t	 len;
	bool		 var;
};

struct rule {
	unsigned int	 listeners;	/* POLICY_L_* */
	enum who	 who;
	uint32_t	 id;		/* uid or gid */
	enum policy_role role;
	int		 nprefix;	/* 0: every name */
	struct prefix	 prefix[POLICY_PREFIXES_MAX];
	char		*text;
};

struct policy {
	unsigned int	 refs;
	bool		 dflt;
	bool		 groups, user;	/* some rule needs them */
	int		 nrules;
	struct rule	 rules[];
};

static const char *const role_names[] = {
	[POLICY_NONE] = "none",
	[POLICY_RO] = "ro",
	[POLICY_RW] = "rw",
	[POLICY_ADMIN] = "admin",
};

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

const char *
policy_role_name(enum policy_role r)
{
	return (unsigned int)r < sizeof(role_names) / sizeof(role_names[0]) ?
	    role_names[r] : "?";
}

static void
rule_free(struct rule *r)
{
	int	i;

	for (i = 0; i < r->nprefix; i++)
		free(r->prefix[i].s);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* A decimal id: no sign, no junk, below (uid_t)-1, which means "none". */
static int
parse_id(const char *s, uint32_t *out)
{
	unsigned long long	v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v >= UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * A user's or group's id by name, looked up now. The buffer grows while
 * the entry does not fit (a group with many members), up to 1 MiB.
 */
static int
lookup_id(bool group, const char *name, uint32_t *id, char *err,
    size_t errlen)
{
	struct passwd	 pw, *pwp = NULL;
	struct group	 gr, *grp = NULL;
	char		*buf = NULL, *nbuf;
	size_t		 size = 1024;
	int		 e;

	for (;;) {
		if ((nbuf = realloc(buf, size)) == NULL) {
			e = ENOMEM;
			break;
		}
		buf = nbuf;
		if (group)
			e = getgrnam_r(name, &gr, buf, size, &grp);
		else
			e = getpwnam_r(name, &pw, buf, size, &pwp);
		if (e != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	free(buf);
	if (group ? grp == NULL : pwp == NULL) {
		seterr(err, errlen, "no %s '%s'%s%s", group ? "group" : "user",
		    name, e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
		return e == ENOMEM ? -ENOMEM : -EINVAL;
	}
	*id = group ? (uint32_t)gr.gr_gid : (uint32_t)pw.pw_uid;
	return 0;
}

/* The principal word: all, uid=, user=, gid=, group=, token, anonymous. */
static int
parse_who(struct rule *r, const char *w, char *err, size_t errlen)
{
	const char	*v;

	if (strcmp(w, "all") == 0) {
		r->who = WHO_ALL;
		return 0;
	}
	if (strcmp(w, "token") == 0 || strcmp(w, "anonymous") == 0) {
		r->who = w[0] == 't' ? WHO_TOKEN : WHO_ANON;
		return 0;
	}
	if ((v = strchr(w, '=')) == NULL || v[1] == '\0')
		goto bad;
	v++;
	if (strncmp(w, "uid=", 4) == 0 || strncmp(w, "gid=", 4) == 0) {
		r->who = w[0] == 'u' ? WHO_UID : WHO_GID;
		if (parse_id(v, &r->id) < 0) {
			seterr(err, errlen, "'%s': expected a decimal id", w);
			return -EINVAL;
		}
		return 0;
	}
	if (strncmp(w, "user=", 5) == 0 || strncmp(w, "group=", 6) == 0) {
		r->who = w[0] == 'u' ? WHO_UID : WHO_GID;
		return lookup_id(r->who == WHO_GID, v, &r->id, err, errlen);
	}
bad:
	seterr(err, errlen, "'%s': expected all, uid=N, user=NAME, gid=N, "
	    "group=NAME, token or anonymous", w);
	return -EINVAL;
}

/* A namespace word: literal bytes, %u for the peer's user, %% for %. */
static int
parse_prefix(struct rule *r, const char *w, char *err, size_t errlen)
{
	struct prefix	*p;
	size_t		 n = strlen(w), i, o = 0;

	if (r->nprefix == POLICY_PREFIXES_MAX) {
		seterr(err, errlen, "more than %d prefixes",
		    POLICY_PREFIXES_MAX);
		return -EINVAL;
	}
	if (n > POLICY_PREFIX_MAX) {
		seterr(err, errlen, "prefix '%.32s...' is longer than %d "
		    "bytes", w, POLICY_PREFIX_MAX);
		return -EINVAL;
	}
	p = &r->prefix[r->nprefix];
	if ((p->s = malloc(n + 1)) == NULL)
		return -ENOMEM;
	r->nprefix++;
	for (i = 0; i < n; i++) {
		if (w[i] != '%') {
			p->s[o++] = w[i];
			continue;
		}
		if (w[i + 1] == '%')
			p->s[o++] = '%';
		else if (w[i + 1] == 'u') {
			p->s[o++] = VAR_MARK;
			p->var = true;
		} else {
			seterr(err, errlen, "prefix '%s': '%%' must be followed "
			    "by u (the user) or %% (a '%%')", w);
			return -EINVAL;
		}
		i++;
	}
	p->len = (uint16_t)o;
	return 0;
}

/*
 * One rule line into r (zeroed by the caller; freed with rule_free() on
 * failure too).
 */
static int
parse_rule(struct rule *r, const char *line, char *err, size_t errlen)
{
	char	 buf[POLICY_LINE_MAX + 1], *words[3 + POLICY_PREFIXES_MAX + 1];
	char	*p, *save;
	size_t	 n = strlen(line), off = 0;
	int	 nw = 0, i, ret;
	bool	 every = false;

	if (n >= sizeof(buf)) {
		seterr(err, errlen, "rule too long");
		return -EINVAL;
	}
	memcpy(buf, line, n + 1);
	for (p = strtok_r(buf, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (nw == (int)(sizeof(words) / sizeof(words[0]))) {
			seterr(err, errlen, "more than %d prefixes",
			    POLICY_PREFIXES_MAX);
			return -EINVAL;
		}
		words[nw++] = p;
	}
	if (nw < 3) {
		seterr(err, errlen, "expected LISTENER PRINCIPAL ROLE "
		    "[PREFIX...]");
		return -EINVAL;
	}
	if (strcmp(words[0], "unix") == 0)
		r->listeners = POLICY_L_UNIX;
	else if (strcmp(words[0], "tcp") == 0)
		r->listeners = POLICY_L_TCP;
	else if (strcmp(words[0], "any") == 0)
		r->listeners = POLICY_L_UNIX | POLICY_L_TCP;
	else {
		seterr(err, errlen, "'%s': the listener must be unix, tcp or "
		    "any", words[0]);
		return -EINVAL;
	}
	if ((ret = parse_who(r, words[1], err, errlen)) < 0)
		return ret;
	if (r->listeners == POLICY_L_TCP &&
	    (r->who == WHO_UID || r->who == WHO_GID)) {
		seterr(err, errlen, "'%s' cannot match over tcp: TCP clients "
		    "have no peer credentials", words[1]);
		return -EINVAL;
	}
	if (r->listeners == POLICY_L_UNIX &&
	    (r->who == WHO_TOKEN || r->who == WHO_ANON)) {
		seterr(err, errlen, "'%s' only applies to tcp", words[1]);
		return -EINVAL;
	}
	for (i = 0; i <= POLICY_ADMIN; i++)
		if (strcmp(words[2], role_names[i]) == 0)
			break;
	if (i > POLICY_ADMIN) {
		seterr(err, errlen, "'%s': the role must be admin, rw, ro or "
		    "none", words[2]);
		return -EINVAL;
	}
	r->role = (enum policy_role)i;
	for (i = 3; i < nw; i++) {
		if (strcmp(words[i], "*") == 0) {
			every = true;
			continue;
		}
		if ((ret = parse_prefix(r, words[i], err, errlen)) < 0)
			return ret;
	}
	if (every) {	/* "*" with others still means every name */
		while (r->nprefix > 0)
			free(r->prefix[--r->nprefix].s);
		memset(r->prefix, 0, sizeof(r->prefix));
	}
	/* Kept for messages: the words, one space apart. */
	if ((r->text = malloc(n + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < nw; i++)
		off += (size_t)snprintf(r->text + off, n + 1 - off, "%s%s",
		    i ? " " : "", words[i]);
	return 0;
}

int
policy_check_rule(const char *line, char *err, size_t errlen)
{
	struct rule	r;
	int		ret;

	memset(&r, 0, sizeof(r));
	ret = parse_rule(&r, line, err, errlen);
	rule_free(&r);
	return ret;
}

/* The next line of text from *p on: its length; *p moves past it. */
static size_t
next_line(const char **p, const char **line)
{
	const char	*nl = strchrnul(*p, '\n');
	size_t		 n = (size_t)(nl - *p);

	*line = *p;
	*p = *nl != '\0' ? nl + 1 : nl;
	return n;
}

static int
parse_lines(const char *text, bool dflt, struct policy **out, char *err,
    size_t errlen)
{
	struct policy	*pol;
	const char	*p, *l;
	char		 line[POLICY_LINE_MAX + 1], why[256];
	size_t		 n;
	int		 nrules = 0, i, j, ret;

	if (strlen(text) > POLICY_TEXT_MAX) {
		seterr(err, errlen, "the rules take more than %u bytes",
		    POLICY_TEXT_MAX);
		return -EINVAL;
	}
	for (p = text; *p != '\0';)
		if (next_line(&p, &l) > 0)
			nrules++;
	if (nrules == 0 || nrules > POLICY_RULES_MAX) {
		seterr(err, errlen, nrules ? "more than %d rules" : "no rules",
		    POLICY_RULES_MAX);
		return -EINVAL;
	}
	pol = calloc(1, sizeof(*pol) + (size_t)nrules * sizeof(pol->rules[0]));
	if (pol == NULL)
		return -ENOMEM;
	pol->refs = 1;
	pol->dflt = dflt;
	for (p = text; *p != '\0';) {
		if ((n = next_line(&p, &l)) == 0)
			continue;
		if (n > POLICY_LINE_MAX) {
			ret = -EINVAL;
			snprintf(why, sizeof(why), "rule too long");
		} else {
			memcpy(line, l, n);
			line[n] = '\0';
			ret = parse_rule(&pol->rules[pol->nrules], line, why,
			    sizeof(why));
		}
		pol->nrules++;
		if (ret < 0) {
			seterr(err, errlen, "rule %d: %s", pol->nrules, why);
			policy_unref(pol);
			return ret;
		}
	}
	for (i = 0; i < pol->nrules; i++) {
		const struct rule	*r = &pol->rules[i];

		if (r->who == WHO_GID)
			pol->groups = true;
		for (j = 0; j < r->nprefix; j++)
			if (r->prefix[j].var)
				pol->user = true;
	}
	*out = pol;
	return 0;
}

int
policy_parse(const char *text, struct policy **out, char *err, size_t errlen)
{
	return parse_lines(text, false, out, err, errlen);
}

int
policy_default(uid_t self, struct policy **out)
{
	char	text[256];

	if (self == 0)
		snprintf(text, sizeof(text), "unix uid=0 admin\n"
		    "unix all rw\ntcp token rw");
	else
		snprintf(text, sizeof(text), "unix uid=0 admin\n"
		    "unix uid=%lu admin\nunix all rw\ntcp token rw",
		    (unsigned long)self);
	return parse_lines(text, true, out, NULL, 0);
}

struct policy *
policy_ref(struct policy *pol)
{
	pol->refs++;
	return pol;
}

void
policy_unref(struct policy *pol)
{
	int	i;

	if (pol == NULL || --pol->refs > 0)
		return;
	for (i = 0; i < pol->nrules; i++)
		rule_free(&pol->rules[i]);
	free(pol);
}

int
policy_nrules(const struct policy *pol)
{
	return pol->nrules;
}

bool
policy_is_default(const struct policy *pol)
{
	return pol->dflt;
}

bool
policy_needs_groups(const struct policy *pol)
{
	return pol->groups;
}

bool
policy_needs_user(const struct policy *pol)
{
	return pol->user;
}

static bool
in_groups(const struct policy_peer *p, gid_t g)
{
	int	i;

	if (p->gid == g)
		return true;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == g)
			return true;
	return false;
}

static bool
rule_matches(const struct rule *r, const struct policy_peer *p)
{
	bool	unix_peer = p->listener == POLICY_L_UNIX;
	int	i;

	if (!(r->listeners & p->listener))
		return false;
	/* %u needs a user: TCP clients have none. */
	for (i = 0; i < r->nprefix; i++)
		if (r->prefix[i].var && p->user == NULL)
			return false;
	switch (r->who) {
	case WHO_ALL:
		return true;
	case WHO_UID:
		return unix_peer && p->uid == (uid_t)r->id;
	case WHO_GID:
		return unix_peer && in_groups(p, (gid_t)r->id);
	case WHO_TOKEN:
		return !unix_peer && p->token;
	case WHO_ANON:
		return !unix_peer && !p->token;
	}
	return false;
}

void
policy_match(const struct policy *pol, const struct policy_peer *peer,
    struct policy_mask *m)
{
	int	i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < pol->nrules; i++)
		if (rule_matches(&pol->rules[i], peer))
			m->w[i / 64] |= UINT64_C(1) << (i % 64);
}

/* How a rule's prefix stands to a name or a queried prefix q. */
enum rel {
	REL_DISJOINT,	/* nothing starts with both */
	REL_COVERS,	/* q starts with the prefix: all under q is in it */
	REL_INSIDE	/* the prefix starts with q, and is longer */
};

/*
 * Compare prefix p, %u read as user, with q: run by run, so that neither
 * is ever copied (a user name may be long).
 */
static enum rel
prefix_rel(const struct prefix *p, const char *user, const uint8_t *q,
    size_t len)
{
	const char	*seg, *mark;
	size_t		 i = 0, o = 0, n, m, ulen = 0;

	if (!p->var) {		/* most are: one comparison */
		m = len < p->len ? len : p->len;
		if (memcmp(q, p->s, m) != 0)
			return REL_DISJOINT;
		return m < p->len ? REL_INSIDE : REL_COVERS;
	}
	if (user != NULL)
		ulen = strlen(user);
	while (i < p->len) {
		if (p->s[i] == VAR_MARK) {
			seg = user != NULL ? user : "";
			n = ulen;
			i++;
		} else {
			seg = p->s + i;
			mark = memchr(seg, VAR_MARK, p->len - i);
			n = mark != NULL ? (size_t)(mark - seg) : p->len - i;
			i += n;
		}
		m = len - o < n ? len - o : n;
		if (memcmp(q + o, seg, m) != 0)
			return REL_DISJOINT;
		if (m < n)
			return REL_INSIDE;
		o += n;
	}
	return REL_COVERS;
}

static bool
prefix_covers(const struct prefix *p, const char *user, const uint8_t *name,
    size_t len)
{
	return prefix_rel(p, user, name, len) == REL_COVERS;
}

/* A prefix as a string, %u expanded (user NULL: written as %u). */
static void
prefix_text(const struct prefix *p, const char *user, char *buf, size_t len)
{
	size_t	i, o = 0;
	int	n;

	for (i = 0; i < p->len && o + 1 < len; i++) {
		if (p->s[i] != VAR_MARK) {
			buf[o++] = p->s[i];
			continue;
		}
		n = snprintf(buf + o, len - o, "%s", user ? user : "%u");
		if (n < 0 || (size_t)n >= len - o) {
			o = len - 1;
			break;
		}
		o += (size_t)n;
	}
	buf[o] = '\0';
}


static void
decided(const struct policy *pol, int rule, int pfx, const char *user,
    struct policy_decision *d)
{
	const struct rule	*r = &pol->rules[rule];

	d->rule = rule;
	d->role = r->role;
	if (pfx >= 0)
		prefix_text(&r->prefix[pfx], user, d->prefix, sizeof(d->prefix));
	else
		d->prefix[0] = '\0';
}

void
policy_decide(const struct policy *pol, const struct policy_mask *m,
    const char *user, const uint8_t *name, size_t len,
    struct policy_decision *d)
{
	const struct rule	*r;
	int			 i, j;

	d->rule = -1;
	d->role = POLICY_NONE;
	d->prefix[0] = '\0';
	for (i = 0; i < pol->nrules; i++) {
		if (!policy_mask_has(m, i))
			continue;
		r = &pol->rules[i];
		if (r->nprefix == 0) {
			decided(pol, i, -1, user, d);
			return;
		}
		for (j = 0; name != NULL && j < r->nprefix; j++) {
			if (prefix_covers(&r->prefix[j], user, name, len)) {
				decided(pol, i, j, user, d);
				return;
			}
		}
	}
}

/*
 * Is the weak sub-space (rule, pfx) shadowed by one decided earlier, so
 * that its rule decides none of its names? Compared on expansions that
 * fit a page; one that does not is taken as not shadowed (a denial).
 */
static bool
shadowed(const struct policy *pol, int rule, int pfx, const char *user,
    const uint16_t *earlier, int nearlier)
{
	char		 buf[4096];
	const char	*u = user != NULL ? user : "";
	const struct prefix *p = &pol->rules[rule].prefix[pfx];
	size_t		 i, o = 0, ulen = strlen(u);
	int		 k;

	for (i = 0; i < p->len; i++) {
		if (p->s[i] != VAR_MARK) {
			if (o == sizeof(buf))
				return false;
			buf[o++] = p->s[i];
		} else {
			if (sizeof(buf) - o < ulen)
				return false;
			memcpy(buf + o, u, ulen);
			o += ulen;
		}
	}
	for (k = 0; k < nearlier; k++) {
		p = &pol->rules[earlier[k] / POLICY_PREFIXES_MAX].prefix[
		    earlier[k] % POLICY_PREFIXES_MAX];
		if (prefix_rel(p, user, (const uint8_t *)buf, o) == REL_COVERS)
			return true;
	}
	return false;
}

bool
policy_decide_prefix(const struct policy *pol, const struct policy_mask *m,
    const char *user, const uint8_t *q, size_t len, enum policy_role need,
    struct policy_decision *d)
{
	uint16_t		 inside[POLICY_RULES_MAX * POLICY_PREFIXES_MAX];
	const struct rule	*r;
	int			 i, j, ninside = 0;

	d->rule = -1;
	d->role = POLICY_NONE;
	d->prefix[0] = '\0';
	for (i = 0; i < pol->nrules; i++) {
		if (!policy_mask_has(m, i))
			continue;
		r = &pol->rules[i];
		if (r->nprefix == 0) {
			decided(pol, i, -1, user, d);
			return r->role >= need;
		}
		for (j = 0; j < r->nprefix; j++) {
			switch (prefix_rel(&r->prefix[j], user, q, len)) {
			case REL_COVERS:
				/* It decides every name under q left. */
				decided(pol, i, j, user, d);
				return r->role >= need;
			case REL_INSIDE:
				/* It decides the names under its prefix that
				 * no earlier rule did. */
				if (r->role >= need)
					inside[ninside++] = (uint16_t)(i *
					    POLICY_PREFIXES_MAX + j);
				else if (!shadowed(pol, i, j, user, inside,
				    ninside)) {
					decided(pol, i, j, user, d);
					return false;
				}
				break;
			case REL_DISJOINT:
				break;
			}
		}
	}
	/* Some names under q are decided by no rule. */
	return false;
}

int
policy_first_global(const struct policy *pol, const struct policy_mask *m)
{
	int	i;

	for (i = 0; i < pol->nrules; i++)
		if (policy_mask_has(m, i))
			return pol->rules[i].nprefix == 0 ? i : -1;
	return -1;
}

enum policy_role
policy_rule_role(const struct policy *pol, int rule)
{
	return pol->rules[rule].role;
}

const char *
policy_rule_text(const struct policy *pol, int rule)
{
	return pol->rules[rule].text;
}

void
policy_rule_grant(const struct policy *pol, int rule, const char *user,
    char *buf, size_t len)
{
	const struct rule	*r = &pol->rules[rule];
	char			 p[POLICY_PREFIX_MAX + 64];
	size_t			 off;
	int			 i, n;

	n = snprintf(buf, len, "%s%s", role_names[r->role],
	    r->nprefix == 0 ? " *" : "");
	off = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < r->nprefix && off < len; i++) {
		prefix_text(&r->prefix[i], user, p, sizeof(p));
		n = snprintf(buf + off, len - off, " %s", p);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
