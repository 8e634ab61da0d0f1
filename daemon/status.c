/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * status.c: the STATUS reply. Field names are part of the protocol
 * (iomuxd-protocol(7)): add new ones, never rename or remove.
 */

#include <sys/types.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "conn.h"
#include "dispatch.h"
#include "kv.h"
#include "lock.h"
#include "pubsub.h"
#include "queue.h"
#include "server.h"
#include "status.h"

/* requests.<name> for every opcode the server knows, in table order. */
static void
status_requests(struct server *srv, struct reply *r)
{
	const struct handler	*h;
	char			 name[48];
	unsigned int		 range, lo;

	for (range = 0; range < DISPATCH_RANGES; range++) {
		for (lo = 0; lo < DISPATCH_RANGE_OPS; lo++) {
			if ((h = dispatch_lookup((uint16_t)(range << 8 | lo)))
			    == NULL)
				continue;
			snprintf(name, sizeof(name), "requests.%s",
			    proto_op_name(h->op));
			reply_pair_u64(r, name,
			    srv->stats.requests_op[range][lo]);
		}
	}
	reply_pair_u64(r, "requests.unknown", srv->stats.requests_unknown);
}

uint64_t
status_rss(void)
{
	char		 buf[128];
	unsigned long	 size, resident;
	ssize_t		 n;
	int		 fd;

	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Listener names joined by commas, truncated (never overrun) if long. */
static void
listener_names(const struct server *srv, char *buf, size_t len)
{
	size_t	off = 0;
	int	i, n;

	buf[0] = '\0';
	for (i = 0; i < srv->nlisteners; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		    srv->listeners[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

/* What anyone with ro may see: how big, how busy, nothing about whom. */
static void
status_summary(struct server *srv, struct reply *r)
{
	struct queue_stats	qst;
	struct pubsub_stats	ps;
	struct lock_stats	ls;
	struct kv_stats		ks;

	kv_stats_get(srv->kv, &ks);
	queue_stats_get(srv->queues, &qst);
	pubsub_stats(srv->pubsub, &ps);
	lock_stats_get(srv->locks, &ls);
	reply_pair(r, "version", PACKAGE_VERSION);
	reply_pair_u64(r, "uptime", (ev_now(srv->loop) - srv->start_ms) / 1000);
	reply_pair(r, "backend", ev_loop_backend(srv->loop));
	reply_pair_u64(r, "clients", (uint64_t)srv->nclients);
	reply_pair_u64(r, "requests", srv->stats.requests);
	reply_pair_u64(r, "keys", ks.keys);
	reply_pair_u64(r, "queues", qst.queues);
	reply_pair_u64(r, "channels", ps.channels);
	reply_pair_u64(r, "locks_held", ls.held);
	reply_pair_u64(r, "data_bytes", srv->data.bytes);
	reply_pair_u64(r, "max_memory", srv->conf.max_memory);
	reply_pair(r, "details", "no");
}

void
status_reply(struct server *srv, struct reply *r, bool details)
{
	const struct ev_stats	*es = ev_loop_stats(srv->loop);
	struct pubsub_stats	 ps;
	struct lock_stats	 ls;
	struct kv_stats		 ks;
	struct queue_stats	 qst;
	char			 text[SERVER_LISTEN_MAX * 130];
	uint64_t		 now = ev_now(srv->loop);

	if (!details) {
		status_summary(srv, r);
		return;
	}
	reply_pair(r, "version", PACKAGE_VERSION);
	reply_pair_u64(r, "pid", (uint64_t)getpid());
	reply_pair_u64(r, "uptime", (now - srv->start_ms) / 1000);
	reply_pair(r, "backend", ev_loop_backend(srv->loop));
	reply_pair(r, "activation", srv->activated ? "systemd" : "standalone");
	listener_names(srv, text, sizeof(text));
	reply_pair(r, "listeners", text);
	reply_pair_u64(r, "clients", (uint64_t)srv->nclients);
	reply_pair_u64(r, "max_clients", (uint64_t)srv->max_clients);
	reply_pair_u64(r, "clients_accepted", srv->stats.clients_accepted);
	reply_pair_u64(r, "clients_refused", srv->stats.clients_refused);
	reply_pair_u64(r, "max_clients_per_uid",
	    (uint64_t)server_max_clients_per_uid(srv));
	reply_pair_u64(r, "clients_refused_uid",
	    srv->stats.clients_refused_uid);
	reply_pair_u64(r, "client_uids", (uint64_t)srv->users.count);
	reply_pair_u64(r, "clients_timed_out", srv->stats.clients_timed_out);
	reply_pair_u64(r, "clients_dropped", srv->stats.clients_dropped);
	reply_pair_u64(r, "requests", srv->stats.requests);
	status_requests(srv, r);
	reply_pair_u64(r, "errors_proto", srv->stats.errors_proto);
	reply_pair_u64(r, "bytes_in", srv->stats.bytes_in);
	reply_pair_u64(r, "bytes_out", srv->stats.bytes_out);
	reply_pair_u64(r, "wakeups", es->wakeups);
	reply_pair_u64(r, "events", es->events);
	snprintf(text, sizeof(text), "%.2f", es->wakeups ?
	    (double)es->events / (double)es->wakeups : 0.0);
	reply_pair(r, "events_per_wakeup", text);
	reply_pair_u64(r, "rss", status_rss());
	reply_pair_u64(r, "frame_max", srv->conf.frame_max);
	reply_pair_u64(r, "accept_paused", srv->stats.accept_paused);

	kv_stats_get(srv->kv, &ks);
	reply_pair_u64(r, "keys", ks.keys);
	reply_pair_u64(r, "keys_expiring", ks.expiring);
	queue_stats_get(srv->queues, &qst);
	reply_pair_u64(r, "queues", qst.queues);
	reply_pair_u64(r, "queued_items", qst.items);
	pubsub_stats(srv->pubsub, &ps);
	reply_pair_u64(r, "channels", ps.channels);
	reply_pair_u64(r, "patterns", ps.patterns);
	reply_pair_u64(r, "subscribers", ps.subscribers);
	lock_stats_get(srv->locks, &ls);
	reply_pair_u64(r, "locks_held", ls.held);
	reply_pair_u64(r, "lock_waiters", ls.waiters);
	reply_pair_u64(r, "blocked_clients", block_count());
	reply_pair_u64(r, "subscribers_dropped",
	    srv->stats.subscribers_dropped);
	reply_pair_u64(r, "data_bytes", srv->data.bytes);
	reply_pair_u64(r, "max_memory", srv->conf.max_memory);
	reply_pair_u64(r, "client_memory", srv->client_mem.bytes);
	reply_pair_u64(r, "client_memory_max", srv->conf.client_memory_max);
	reply_pair_u64(r, "clients_evicted", srv->stats.clients_evicted);
	reply_pair_u64(r, "client_memory_max_per_uid",
	    server_client_mem_max_per_uid(srv));
	reply_pair_u64(r, "clients_evicted_uid",
	    srv->stats.clients_evicted_uid);
	reply_pair_u64(r, "sockets_recreated", srv->stats.sockets_recreated);
	reply_pair_u64(r, "publishes_sliced", srv->stats.publishes_sliced);
	reply_pair_u64(r, "publish_slices", srv->stats.publish_slices);
	reply_pair_u64(r, "requests_denied", srv->stats.requests_denied);
	reply_pair_u64(r, "auth_failures", srv->stats.auth_failures);
	reply_pair_u64(r, "rules", policy_is_default(srv->policy) ? 0 :
	    (uint64_t)policy_nrules(srv->policy));
	reply_pair(r, "details", "yes");
}

void
status_line(struct server *srv, char *buf, size_t len)
{
	snprintf(buf, len, "serving %d client%s on %d listener%s (%s)",
	    srv->nclients, srv->nclients == 1 ? "" : "s", srv->nlisteners,
	    srv->nlisteners == 1 ? "" : "s", ev_loop_backend(srv->loop));
}
