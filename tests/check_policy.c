/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_policy.c: unit tests of the access rules (daemon/policy.c), with
 * peers described by hand: no socket, no connection. Covered: the rule
 * grammar and each of its errors, the limits, name resolution (root and
 * nobody exist on every Debian), matching by listener, uid, primary and
 * supplementary gid, token and anonymous TCP clients, namespaces with %u
 * and %%, first match wins, requests without a name, the default rules,
 * and the texts WHOAMI and EDENIED are built from.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "policy.h"

static struct policy	*pol;

static void
teardown(void)
{
	policy_unref(pol);
	pol = NULL;
}

static void
parse_ok(const char *text)
{
	char	err[256] = "";

	ck_assert_msg(policy_parse(text, &pol, err, sizeof(err)) == 0,
	    "'%s': %s", text, err);
}

static void
parse_bad(const char *text, const char *want)
{
	struct policy	*p = NULL;
	char		 err[256] = "";

	ck_assert_msg(policy_parse(text, &p, err, sizeof(err)) == -EINVAL,
	    "'%s' parsed", text);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err, want) != NULL, "'%s': '%s' lacks '%s'",
	    text, err, want);
	/* One line alone is checked the same way. */
	if (strchr(text, '\n') == NULL && text[0] != '\0')
		ck_assert_int_eq(policy_check_rule(text, err, sizeof(err)),
		    -EINVAL);
}

static struct policy_peer
unix_peer(uid_t uid, gid_t gid, const char *user)
{
	struct policy_peer	p;

	memset(&p, 0, sizeof(p));
	p.listener = POLICY_L_UNIX;
	p.uid = uid;
	p.gid = gid;
	p.user = user;
	return p;
}

static struct policy_peer
tcp_peer(bool token)
{
	struct policy_peer	p;

	memset(&p, 0, sizeof(p));
	p.listener = POLICY_L_TCP;
	p.token = token;
	return p;
}

/* The rule (1-based, 0: none) and role deciding name for peer. */
static int
decide(const struct policy_peer *peer, const char *name,
    enum policy_role *role)
{
	struct policy_mask	m;
	struct policy_decision	d;

	policy_match(pol, peer, &m);
	policy_decide(pol, &m, peer->user, (const uint8_t *)name,
	    name ? strlen(name) : 0, &d);
	*role = d.role;
	return d.rule + 1;
}

static void
expect(const struct policy_peer *peer, const char *name, int rule,
    enum policy_role role)
{
	enum policy_role	got;
	int			r = decide(peer, name, &got);

	ck_assert_msg(r == rule && got == role, "'%s': rule %d role %s, "
	    "want rule %d role %s", name ? name : "(none)", r,
	    policy_role_name(got), rule, policy_role_name(role));
}

START_TEST(test_grammar_errors)
{
	parse_bad("", "no rules");
	parse_bad("\n\n", "no rules");
	parse_bad("unix all", "expected LISTENER PRINCIPAL ROLE");
	parse_bad("udp all rw", "the listener must be");
	parse_bad("unix everyone rw", "expected all, uid=N");
	parse_bad("unix uid= rw", "expected all, uid=N");
	parse_bad("unix uid=-1 rw", "decimal id");
	parse_bad("unix uid=12x rw", "decimal id");
	parse_bad("unix uid=4294967295 rw", "decimal id");
	parse_bad("unix all write", "the role must be");
	parse_bad("unix user=no-such-user-iomuxd rw", "no user");
	parse_bad("unix group=no-such-group-iomuxd rw", "no group");
	parse_bad("tcp uid=0 rw", "cannot match over tcp");
	parse_bad("tcp group=root rw", "cannot match over tcp");
	parse_bad("unix token rw", "only applies to tcp");
	parse_bad("unix anonymous ro", "only applies to tcp");
	parse_bad("unix all rw 50%", "'%' must be followed");
	parse_bad("unix all rw %x", "'%' must be followed");
	/* The line number is the rule's, blank lines left out. */
	parse_bad("unix all rw\n\nunix all nope", "rule 2:");
}
END_TEST

START_TEST(test_limits)
{
	char	*text, word[POLICY_PREFIX_MAX + 2];
	size_t	 i, off = 0;

	/* Eight prefixes are fine, nine are not. */
	parse_ok("unix all rw a b c d e f g h");
	teardown();
	parse_bad("unix all rw a b c d e f g h i", "more than 8 prefixes");
	/* A prefix of POLICY_PREFIX_MAX bytes is fine, one more is not. */
	memset(word, 'p', sizeof(word));
	word[POLICY_PREFIX_MAX] = '\0';
	text = malloc(POLICY_TEXT_MAX * 2);
	ck_assert_ptr_nonnull(text);
	snprintf(text, POLICY_TEXT_MAX, "unix all rw %s", word);
	parse_ok(text);
	teardown();
	word[POLICY_PREFIX_MAX] = 'p';
	word[POLICY_PREFIX_MAX + 1] = '\0';
	snprintf(text, POLICY_TEXT_MAX, "unix all rw %s", word);
	parse_bad(text, "longer than");
	/* POLICY_RULES_MAX rules, then one more. */
	for (i = 0; i < POLICY_RULES_MAX; i++)
		off += (size_t)sprintf(text + off, "unix uid=%zu ro\n", i);
	parse_ok(text);
	ck_assert_int_eq(policy_nrules(pol), POLICY_RULES_MAX);
	teardown();
	sprintf(text + off, "unix all ro");
	parse_bad(text, "more than 128 rules");
	/* And the text as a whole. */
	memset(text, ' ', POLICY_TEXT_MAX + 1);
	memcpy(text, "unix all ro", 11);
	text[POLICY_TEXT_MAX + 1] = '\0';
	parse_bad(text, "more than");
	free(text);
}
END_TEST

START_TEST(test_names_resolved)
{
	struct policy_peer	root = unix_peer(0, 0, "root");
	struct policy_peer	nobody = unix_peer(65534, 65534, "nobody");

	parse_ok("unix user=root admin\nunix group=root ro\nunix all none");
	expect(&root, "k", 1, POLICY_ADMIN);
	/* gid 0 is the group root. */
	nobody.gid = 0;
	expect(&nobody, "k", 2, POLICY_RO);
	nobody.gid = 65534;
	expect(&nobody, "k", 3, POLICY_NONE);
}
END_TEST

START_TEST(test_match_listener_and_principal)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");
	struct policy_peer	t = tcp_peer(true), anon = tcp_peer(false);
	gid_t			 groups[] = { 27, 1000, 4242 };

	parse_ok("unix uid=1000 admin\n"
	    "unix gid=4242 rw\n"
	    "tcp token rw\n"
	    "any anonymous ro\n"
	    "any all none");
	expect(&a, "k", 1, POLICY_ADMIN);
	/* Another uid with the primary gid 4242, then as a supplementary. */
	a.uid = 1001;
	a.gid = 4242;
	expect(&a, "k", 2, POLICY_RW);
	a.gid = 1001;
	expect(&a, "k", 5, POLICY_NONE);
	a.groups = groups;
	a.ngroups = 3;
	expect(&a, "k", 2, POLICY_RW);
	expect(&t, "k", 3, POLICY_RW);
	expect(&anon, "k", 4, POLICY_RO);
	/* uid and gid rules never match a TCP client, whatever its ids. */
	teardown();
	parse_ok("any uid=0 admin\nany gid=0 admin\nany all ro");
	t.uid = 0;
	t.gid = 0;
	expect(&t, "k", 3, POLICY_RO);
}
END_TEST

START_TEST(test_namespaces)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");
	struct policy_peer	t = tcp_peer(true);

	parse_ok("unix uid=1000 rw deploy/ ops/\n"
	    "unix all rw user/%u/\n"
	    "any all ro 100%%/ \n"
	    "unix all ro");
	expect(&a, "deploy/x", 1, POLICY_RW);
	expect(&a, "ops/", 1, POLICY_RW);
	expect(&a, "deploy", 4, POLICY_RO);	/* shorter than the prefix */
	expect(&a, "user/alice/k", 2, POLICY_RW);
	expect(&a, "user/alice", 4, POLICY_RO);
	expect(&a, "user/alicex/k", 4, POLICY_RO);
	expect(&a, "user/bob/k", 4, POLICY_RO);
	expect(&a, "100%/k", 3, POLICY_RO);
	/* %u never matches a client without a user (TCP). */
	expect(&t, "user//k", 0, POLICY_NONE);
	expect(&t, "100%/k", 3, POLICY_RO);
	/* The empty name is covered only by rules for every name. */
	expect(&a, "", 4, POLICY_RO);
}
END_TEST

/* Is a prefix query (KEYS, PSUBSCRIBE) allowed with role need? */
static void
expect_prefix(const struct policy_peer *peer, const char *prefix,
    enum policy_role need, bool allowed, int rule, const char *at)
{
	struct policy_mask	m;
	struct policy_decision	d;
	bool			ok;

	policy_match(pol, peer, &m);
	ok = policy_decide_prefix(pol, &m, peer->user, (const uint8_t *)prefix,
	    strlen(prefix), need, &d);
	ck_assert_msg(ok == allowed && d.rule + 1 == rule &&
	    strcmp(d.prefix, at) == 0, "prefix '%s' (need %s): %s by rule %d "
	    "at '%s', want %s by rule %d at '%s'", prefix,
	    policy_role_name(need), ok ? "allowed" : "denied", d.rule + 1,
	    d.prefix, allowed ? "allowed" : "denied", rule, at);
}

/*
 * A prefix names every name under it: allowed only if the rules allow
 * each of them, including those decided by a rule whose prefix is longer
 * than the query's (the reviewer's KEYS "u" reaching into user/).
 */
START_TEST(test_prefix_query)
{
	struct policy_peer	n = unix_peer(65534, 65534, "nobody");

	parse_ok("unix all rw user/%u/\nunix all none user/\nunix all ro");
	expect_prefix(&n, "u", POLICY_RO, false, 2, "user/");
	expect_prefix(&n, "", POLICY_RO, false, 2, "user/");
	expect_prefix(&n, "user/", POLICY_RO, false, 2, "user/");
	expect_prefix(&n, "user/nob", POLICY_RO, false, 2, "user/");
	expect_prefix(&n, "user/nobody/", POLICY_RO, true, 1, "user/nobody/");
	expect_prefix(&n, "user/nobody/x", POLICY_RW, true, 1, "user/nobody/");
	expect_prefix(&n, "x", POLICY_RO, true, 3, "");
	expect_prefix(&n, "x", POLICY_RW, false, 3, "");
	teardown();
	/* Part of the space covered, the rest by no rule. */
	parse_ok("unix all ro a/ b/");
	expect_prefix(&n, "", POLICY_RO, false, 0, "");
	expect_prefix(&n, "a", POLICY_RO, false, 0, "");
	expect_prefix(&n, "a/", POLICY_RO, true, 1, "a/");
	teardown();
	/* Every sub-space allowed, then a rule for the rest. */
	parse_ok("unix all rw a/ b/\nunix all rw");
	expect_prefix(&n, "", POLICY_RW, true, 2, "");
	/* A rule with a prefix naming the query's sub-space, too weak. */
	teardown();
	parse_ok("unix all ro ab\nunix all rw");
	expect_prefix(&n, "a", POLICY_RW, false, 1, "ab");
	expect_prefix(&n, "a", POLICY_RO, true, 2, "");
	/* A weak rule shadowed by an earlier one decides nothing. */
	teardown();
	parse_ok("unix all rw a/\nunix all none a/b/\nunix all rw");
	expect_prefix(&n, "", POLICY_RW, true, 3, "");
	teardown();
	parse_ok("unix all ro a/\nunix all none a/b/\nunix all rw");
	expect_prefix(&n, "", POLICY_RW, false, 1, "a/");
	expect_prefix(&n, "", POLICY_RO, true, 3, "");
	/* %u in both, the user's name longer than any buffer of names. */
	teardown();
	parse_ok("unix all rw u/%u/\nunix all none u/%u/x/\nunix all ro");
	expect_prefix(&n, "u/", POLICY_RO, true, 3, "");
	expect_prefix(&n, "u/nobody/", POLICY_RW, true, 1, "u/nobody/");
}
END_TEST

START_TEST(test_first_match_wins)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");

	parse_ok("unix uid=1000 none\nunix uid=1000 rw");
	expect(&a, "k", 1, POLICY_NONE);
	teardown();
	parse_ok("unix uid=1000 rw\nunix uid=1000 none");
	expect(&a, "k", 1, POLICY_RW);
	teardown();
	/* A namespace rule first only decides inside its namespace. */
	parse_ok("unix uid=1000 none secret/\nunix all rw");
	expect(&a, "secret/k", 1, POLICY_NONE);
	expect(&a, "public", 2, POLICY_RW);
	/* No rule matches at all: rule 0, none. */
	a.uid = 7;
	teardown();
	parse_ok("unix uid=1000 rw");
	expect(&a, "k", 0, POLICY_NONE);
}
END_TEST

START_TEST(test_no_name_and_first_global)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");
	struct policy_mask	m;

	/* A request without a name: the first rule covering every name. */
	parse_ok("unix uid=1000 admin deploy/\nunix all ro\nunix all admin");
	expect(&a, NULL, 2, POLICY_RO);
	policy_match(pol, &a, &m);
	ck_assert_int_eq(policy_first_global(pol, &m), -1);
	teardown();
	parse_ok("unix uid=1 rw deploy/\nunix all ro *\nunix all rw");
	policy_match(pol, &a, &m);
	/* Rule 1 does not match alice: rule 2 ("*") decides everything. */
	ck_assert_int_eq(policy_first_global(pol, &m), 1);
	expect(&a, "deploy/x", 2, POLICY_RO);
	teardown();
	parse_ok("unix uid=1 rw");
	expect(&a, NULL, 0, POLICY_NONE);
	policy_match(pol, &a, &m);
	ck_assert_int_eq(policy_first_global(pol, &m), -1);
}
END_TEST

START_TEST(test_star_means_every_name)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");
	char			buf[256];

	parse_ok("unix all rw deploy/ *");
	expect(&a, "anything", 1, POLICY_RW);
	policy_rule_grant(pol, 0, "alice", buf, sizeof(buf));
	ck_assert_str_eq(buf, "rw *");
}
END_TEST

START_TEST(test_defaults)
{
	struct policy_peer	root = unix_peer(0, 0, "root");
	struct policy_peer	self = unix_peer(4321, 4321, "me");
	struct policy_peer	other = unix_peer(1000, 1000, "alice");
	struct policy_peer	t = tcp_peer(true), anon = tcp_peer(false);

	ck_assert_int_eq(policy_default(4321, &pol), 0);
	ck_assert(policy_is_default(pol));
	ck_assert(!policy_needs_groups(pol) && !policy_needs_user(pol));
	expect(&root, "k", 1, POLICY_ADMIN);
	expect(&self, "k", 2, POLICY_ADMIN);
	expect(&other, "k", 3, POLICY_RW);
	expect(&other, NULL, 3, POLICY_RW);
	expect(&t, "k", 4, POLICY_RW);
	expect(&anon, "k", 0, POLICY_NONE);
	ck_assert_str_eq(policy_rule_text(pol, 2), "unix all rw");
	teardown();
	/* Run by root, root's rule is not written twice. */
	ck_assert_int_eq(policy_default(0, &pol), 0);
	ck_assert_int_eq(policy_nrules(pol), 3);
	expect(&other, "k", 2, POLICY_RW);
}
END_TEST

START_TEST(test_texts)
{
	struct policy_peer	a = unix_peer(1000, 1000, "alice");
	struct policy_mask	m;
	struct policy_decision	d;
	char			buf[256];

	parse_ok("unix\tall  rw   user/%u/  deploy/\nunix gid=5 ro\n"
	    "unix all ro");
	ck_assert(policy_needs_user(pol));
	ck_assert(policy_needs_groups(pol));
	ck_assert(!policy_is_default(pol));
	/* The rule as written, one space between words. */
	ck_assert_str_eq(policy_rule_text(pol, 0),
	    "unix all rw user/%u/ deploy/");
	policy_rule_grant(pol, 0, "alice", buf, sizeof(buf));
	ck_assert_str_eq(buf, "rw user/alice/ deploy/");
	policy_rule_grant(pol, 2, "alice", buf, sizeof(buf));
	ck_assert_str_eq(buf, "ro *");
	/* The prefix that decided, %u expanded; "" for every name. */
	policy_match(pol, &a, &m);
	policy_decide(pol, &m, "alice", (const uint8_t *)"user/alice/x", 12,
	    &d);
	ck_assert_int_eq(d.rule, 0);
	ck_assert_str_eq(d.prefix, "user/alice/");
	policy_decide(pol, &m, "alice", (const uint8_t *)"zzz", 3, &d);
	ck_assert_int_eq(d.rule, 2);
	ck_assert_str_eq(d.prefix, "");
	/* A short buffer is cut, never overrun. */
	policy_rule_grant(pol, 0, "alice", buf, 6);
	ck_assert_str_eq(buf, "rw us");
	ck_assert_str_eq(policy_role_name(POLICY_ADMIN), "admin");
}
END_TEST

START_TEST(test_refcount)
{
	struct policy	*p2;

	parse_ok("unix all ro");
	p2 = policy_ref(pol);
	ck_assert_ptr_eq(p2, pol);
	policy_unref(p2);
	/* Still alive: teardown() drops the last reference. */
	ck_assert_int_eq(policy_nrules(pol), 1);
	policy_unref(NULL);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_grammar_errors);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_names_resolved);
	tcase_add_test(tc, test_match_listener_and_principal);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_prefix_query);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_test(tc, test_no_name_and_first_global);
	tcase_add_test(tc, test_star_means_every_name);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_texts);
	tcase_add_test(tc, test_refcount);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(policy_suite());
}
