/* SPDX-License-Identifier: BSD-2-Clause */
/* Conntrack table kept current from netlink events; see conntrack.h. */
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnfnetlink/libnfnetlink.h>

#include "flow_json.h"
#include "flow_l34.h"

struct ct_item;

struct ct_node {
	struct ct_node *next;
	struct ct_tuple key;
	struct ct_item *item;
	uint8_t where;
};

struct ct_item {
	struct ct_entry e;
	struct ct_node keys[4];
	uint8_t n_keys;
	struct ct_item *older, *newer;
};

struct ct_table {
	struct nfct_handle *ev;        /* events; NULL with no_events */
	struct nfct_handle *q;         /* dumps and queries */
	struct ct_node **buckets;
	size_t mask;
	struct ct_item *oldest, *newest;
	size_t n;
	struct ct_opts o;
	struct ct_stats st;
	bool need_dump;
	/* query callback scratch */
	bool q_found;
	struct ct_entry q_entry;
	int q_mode;                    /* 0 dump, 1 get */
};

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* --- tuples ------------------------------------------------------------------- */

void ct_tuple_reverse(const struct ct_tuple *in, struct ct_tuple *out)
{
	struct ct_tuple t = *in;
	memcpy(t.src, in->dst, 16);
	memcpy(t.dst, in->src, 16);
	t.sport = in->dport;
	t.dport = in->sport;
	*out = t;
}

static bool tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->family == b->family && a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16);
}

static uint64_t tuple_hash(const struct ct_tuple *t)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)t;
	/* the struct has no padding: family, proto, 2 ports, 2 addresses */
	for (size_t i = 0; i < sizeof(*t); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 31);
}

_Static_assert(sizeof(struct ct_tuple) == 38, "ct_tuple is hashed as bytes");

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 132: return "sctp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	default: return NULL;
	}
}

void ct_tuple_format(const struct ct_tuple *t, char *out, size_t outlen)
{
	char s[46], d[46], pn[8];
	flow_addr_format(t->family, t->src, s);
	flow_addr_format(t->family, t->dst, d);
	const char *name = proto_name(t->proto);
	if (!name) {
		snprintf(pn, sizeof(pn), "%u", t->proto);
		name = pn;
	}
	if (t->family == 6)
		snprintf(out, outlen, "%s [%s]:%u -> [%s]:%u", name, s, t->sport, d, t->dport);
	else
		snprintf(out, outlen, "%s %s:%u -> %s:%u", name, s, t->sport, d, t->dport);
}

const char *ct_tcp_state_name(const struct ct_entry *e)
{
	static const char *const names[] = {
		"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
		"LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
	};
	if (e->orig.proto != 6)
		return NULL;
	return e->tcp_state < sizeof(names) / sizeof(names[0]) ? names[e->tcp_state] : "UNKNOWN";
}

/* --- table ------------------------------------------------------------------- */

static void unlink_keys(struct ct_table *t, struct ct_item *it)
{
	for (unsigned k = 0; k < it->n_keys; k++) {
		struct ct_node *n = &it->keys[k];
		struct ct_node **pp = &t->buckets[tuple_hash(&n->key) & t->mask];
		while (*pp && *pp != n)
			pp = &(*pp)->next;
		if (*pp)
			*pp = n->next;
	}
	it->n_keys = 0;
}

static void lru_unlink(struct ct_table *t, struct ct_item *it)
{
	if (it->older)
		it->older->newer = it->newer;
	else
		t->oldest = it->newer;
	if (it->newer)
		it->newer->older = it->older;
	else
		t->newest = it->older;
	it->older = it->newer = NULL;
}

static void lru_push(struct ct_table *t, struct ct_item *it)
{
	it->older = t->newest;
	it->newer = NULL;
	if (t->newest)
		t->newest->newer = it;
	else
		t->oldest = it;
	t->newest = it;
}

static void item_free(struct ct_table *t, struct ct_item *it)
{
	unlink_keys(t, it);
	lru_unlink(t, it);
	free(it);
	t->n--;
}

static struct ct_node *find_node(const struct ct_table *t, const struct ct_tuple *k)
{
	for (struct ct_node *n = t->buckets[tuple_hash(k) & t->mask]; n; n = n->next)
		if (tuple_eq(&n->key, k))
			return n;
	return NULL;
}

/* Index item under its four tuples; an older entry owning one of them (a
 * reused tuple after DESTROY) goes. */
static void link_keys(struct ct_table *t, struct ct_item *it)
{
	struct ct_tuple k[4];
	k[CT_ORIG_PRE_NAT] = it->e.orig;
	ct_tuple_reverse(&it->e.reply, &k[CT_ORIG_POST_NAT]);
	k[CT_REPLY_PRE_NAT] = it->e.reply;
	ct_tuple_reverse(&it->e.orig, &k[CT_REPLY_POST_NAT]);
	for (unsigned w = 0; w < 4; w++) {
		bool dup = false;
		for (unsigned j = 0; j < it->n_keys && !dup; j++)
			dup = tuple_eq(&it->keys[j].key, &k[w]);
		if (dup)
			continue;   /* no NAT: post-NAT equals pre-NAT */
		struct ct_node *old;
		while ((old = find_node(t, &k[w])) && old->item != it)
			item_free(t, old->item);
		struct ct_node *n = &it->keys[it->n_keys++];
		n->key = k[w];
		n->item = it;
		n->where = (uint8_t)w;
		struct ct_node **b = &t->buckets[tuple_hash(&k[w]) & t->mask];
		n->next = *b;
		*b = n;
	}
}

static void upsert(struct ct_table *t, const struct ct_entry *e)
{
	struct ct_node *n = find_node(t, &e->orig);
	struct ct_item *it = n && n->where == CT_ORIG_PRE_NAT ? n->item : NULL;
	if (it) {
		bool rekey = !tuple_eq(&it->e.reply, &e->reply);
		if (rekey)
			unlink_keys(t, it);
		it->e = *e;
		if (rekey)
			link_keys(t, it);
		lru_unlink(t, it);
		lru_push(t, it);
		return;
	}
	if (t->n >= t->o.max_entries && t->oldest) {
		item_free(t, t->oldest);
		t->st.evicted++;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return;   /* counted as eviction: the entry is not kept */
	it->e = *e;
	t->n++;
	lru_push(t, it);
	link_keys(t, it);
}

static void mark_destroyed(struct ct_table *t, const struct ct_entry *e)
{
	struct ct_node *n = find_node(t, &e->orig);
	if (!n || n->where != CT_ORIG_PRE_NAT) {
		/* never seen alive (flowd started after it): keep it anyway, a
		 * flow of it may still end in flowd */
		upsert(t, e);
		n = find_node(t, &e->orig);
		if (!n)
			return;
	}
	struct ct_item *it = n->item;
	it->e = *e;
	it->e.destroyed = true;
	lru_unlink(t, it);
	lru_push(t, it);
}

static void expire(struct ct_table *t)
{
	uint64_t now = mono_ns();
	/* destroyed entries sit among the others in update order: walk from the
	 * oldest while anything is old enough */
	struct ct_item *it = t->oldest;
	while (it && now - it->e.updated_ns > t->o.destroyed_ttl_ns) {
		struct ct_item *next = it->newer;
		if (it->e.destroyed) {
			item_free(t, it);
			t->st.expired++;
		}
		it = next;
	}
}

/* --- netlink --------------------------------------------------------------------- */

static bool read_tuple(const struct nf_conntrack *ct, bool reply, struct ct_tuple *tu)
{
	memset(tu, 0, sizeof(*tu));
	uint8_t l3 = nfct_get_attr_u8(ct, reply ? ATTR_REPL_L3PROTO : ATTR_ORIG_L3PROTO);
	tu->proto = nfct_get_attr_u8(ct, reply ? ATTR_REPL_L4PROTO : ATTR_ORIG_L4PROTO);
	if (l3 == AF_INET) {
		uint32_t s = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC);
		uint32_t d = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST);
		tu->family = 4;
		memcpy(tu->src, &s, 4);
		memcpy(tu->dst, &d, 4);
	} else if (l3 == AF_INET6) {
		const void *s = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC);
		const void *d = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST);
		if (!s || !d)
			return false;
		tu->family = 6;
		memcpy(tu->src, s, 16);
		memcpy(tu->dst, d, 16);
	} else {
		return false;
	}
	switch (tu->proto) {
	case 6: case 17: case 132: case 136: case 33:
		tu->sport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC));
		tu->dport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST));
		break;
	case 1: case 58:
		if (nfct_attr_is_set(ct, ATTR_ICMP_ID))
			tu->sport = tu->dport = ntohs(nfct_get_attr_u16(ct, ATTR_ICMP_ID));
		break;
	}
	return true;
}

static bool read_entry(const struct nf_conntrack *ct, struct ct_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (!read_tuple(ct, false, &e->orig) || !read_tuple(ct, true, &e->reply))
		return false;
	if (nfct_attr_is_set(ct, ATTR_ID))
		e->id = nfct_get_attr_u32(ct, ATTR_ID);
	if (nfct_attr_is_set(ct, ATTR_STATUS))
		e->status = nfct_get_attr_u32(ct, ATTR_STATUS);
	if (nfct_attr_is_set(ct, ATTR_MARK))
		e->mark = nfct_get_attr_u32(ct, ATTR_MARK);
	if (e->orig.proto == 6 && nfct_attr_is_set(ct, ATTR_TCP_STATE))
		e->tcp_state = nfct_get_attr_u8(ct, ATTR_TCP_STATE);
	e->updated_ns = mono_ns();
	return true;
}

static int event_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct ct_table *t = data;
	struct ct_entry e;
	if (!read_entry(ct, &e))
		return NFCT_CB_CONTINUE;
	switch (type) {
	case NFCT_T_NEW:
		t->st.events_new++;
		upsert(t, &e);
		break;
	case NFCT_T_UPDATE:
		t->st.events_update++;
		upsert(t, &e);
		break;
	case NFCT_T_DESTROY:
		t->st.events_destroy++;
		mark_destroyed(t, &e);
		break;
	default:
		break;
	}
	return NFCT_CB_CONTINUE;
}

static int query_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct ct_table *t = data;
	struct ct_entry e;
	(void)type;
	if (!read_entry(ct, &e))
		return NFCT_CB_CONTINUE;
	if (t->q_mode == 0) {
		t->st.dumped++;
		upsert(t, &e);
	} else {
		t->q_found = true;
		t->q_entry = e;
	}
	return NFCT_CB_CONTINUE;
}

static void notice(char *err, size_t errlen, int e, const char *what)
{
	if (e == EPERM || e == EACCES)
		snprintf(err, errlen, "conntrack: no permission to %s (CAP_NET_ADMIN needed); NAT "
		         "enrichment off", what);
	else if (e == EPROTONOSUPPORT || e == ENOENT || e == EOPNOTSUPP || e == EAFNOSUPPORT)
		snprintf(err, errlen, "conntrack: the kernel has no conntrack netlink interface "
		         "(nf_conntrack_netlink not loaded?) to %s: %s; NAT enrichment off", what,
		         strerror(e));
	else
		snprintf(err, errlen, "conntrack: cannot %s: %s; NAT enrichment off", what, strerror(e));
}

int ct_open(struct ct_table **out, const struct ct_opts *opts, char *err, size_t errlen)
{
	*out = NULL;
	struct ct_table *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "conntrack: out of memory");
		return -ENOMEM;
	}
	if (opts)
		t->o = *opts;
	if (!t->o.max_entries)
		t->o.max_entries = 65536;
	if (!t->o.destroyed_ttl_ns)
		t->o.destroyed_ttl_ns = 120ull * 1000000000ull;
	if (!t->o.rcvbuf)
		t->o.rcvbuf = 4u << 20;
	size_t nb = 64;
	while (nb < t->o.max_entries * 2 && nb < (1u << 24))
		nb <<= 1;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		snprintf(err, errlen, "conntrack: out of memory");
		return -ENOMEM;
	}
	t->mask = nb - 1;

	int rc;
	if (t->o.offline) {
		*out = t;
		return 0;
	}
	if (!t->o.no_events) {
		t->ev = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE |
		                             NF_NETLINK_CONNTRACK_DESTROY);
		if (!t->ev) {
			rc = -errno;
			notice(err, errlen, -rc, "subscribe to conntrack events");
			goto fail;
		}
		nfnl_rcvbufsiz(nfct_nfnlh(t->ev), (unsigned)t->o.rcvbuf);
		int fd = nfct_fd(t->ev);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		nfct_callback_register(t->ev, NFCT_T_ALL, event_cb, t);
	}
	t->q = nfct_open(CONNTRACK, 0);
	if (!t->q) {
		rc = -errno;
		notice(err, errlen, -rc, "query conntrack");
		goto fail;
	}
	nfct_callback_register(t->q, NFCT_T_ALL, query_cb, t);
	rc = t->o.no_initial_dump ? 0 : ct_dump(t);
	if (rc < 0) {
		notice(err, errlen, -rc, "read the conntrack table");
		goto fail;
	}
	*out = t;
	return 0;
fail:
	ct_close(t);
	return rc ? rc : -EIO;
}

void ct_close(struct ct_table *t)
{
	if (!t)
		return;
	if (t->ev)
		nfct_close(t->ev);
	if (t->q)
		nfct_close(t->q);
	while (t->oldest)
		item_free(t, t->oldest);
	free(t->buckets);
	free(t);
}

int ct_fd(const struct ct_table *t)
{
	return t->ev ? nfct_fd(t->ev) : -1;
}

void ct_feed(struct ct_table *t, enum ct_event ev, const struct ct_entry *e)
{
	struct ct_entry c = *e;
	if (!c.updated_ns)
		c.updated_ns = mono_ns();
	switch (ev) {
	case CT_EV_NEW:
		t->st.events_new++;
		upsert(t, &c);
		break;
	case CT_EV_UPDATE:
		t->st.events_update++;
		upsert(t, &c);
		break;
	case CT_EV_DESTROY:
		t->st.events_destroy++;
		mark_destroyed(t, &c);
		break;
	}
}

int ct_dump(struct ct_table *t)
{
	if (!t->q)
		return -ENOTCONN;
	uint32_t family = AF_UNSPEC;
	uint64_t before = t->st.dumped;
	t->q_mode = 0;
	if (nfct_query(t->q, NFCT_Q_DUMP, &family) < 0)
		return -errno;
	t->need_dump = false;
	return (int)(t->st.dumped - before);
}

int ct_process(struct ct_table *t)
{
	uint64_t before = t->st.events_new + t->st.events_update + t->st.events_destroy;
	int rc = 0;
	if (t->ev) {
		for (int i = 0; i < 64; i++) {
			if (nfct_catch(t->ev) >= 0)
				continue;
			if (errno == ENOBUFS) {
				/* the socket overflowed: events were lost; the dump
				 * below brings the table back in line */
				t->st.overruns++;
				t->need_dump = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				rc = -errno;
			break;
		}
	}
	if (t->need_dump) {
		int d = ct_dump(t);
		if (d < 0 && !rc)
			rc = d;
	}
	expire(t);
	if (rc)
		return rc;
	return (int)(t->st.events_new + t->st.events_update + t->st.events_destroy - before);
}

const struct ct_entry *ct_lookup(const struct ct_table *t, const struct ct_tuple *seen,
                                 enum ct_where *where)
{
	const struct ct_node *n = find_node(t, seen);
	if (!n)
		return NULL;
	if (where)
		*where = (enum ct_where)n->where;
	return &n->item->e;
}

static int get_one(struct ct_table *t, const struct ct_tuple *tu, bool as_reply)
{
	struct nf_conntrack *ct = nfct_new();
	if (!ct)
		return -ENOMEM;
	int base = as_reply ? 1 : 0;
	nfct_set_attr_u8(ct, base ? ATTR_REPL_L3PROTO : ATTR_ORIG_L3PROTO, tu->family == 4 ? AF_INET : AF_INET6);
	if (tu->family == 4) {
		uint32_t s, d;
		memcpy(&s, tu->src, 4);
		memcpy(&d, tu->dst, 4);
		nfct_set_attr_u32(ct, base ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC, s);
		nfct_set_attr_u32(ct, base ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST, d);
	} else {
		nfct_set_attr(ct, base ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC, tu->src);
		nfct_set_attr(ct, base ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST, tu->dst);
	}
	nfct_set_attr_u8(ct, base ? ATTR_REPL_L4PROTO : ATTR_ORIG_L4PROTO, tu->proto);
	if (tu->proto == 1 || tu->proto == 58) {
		nfct_set_attr_u16(ct, ATTR_ICMP_ID, htons(tu->sport));
		nfct_set_attr_u8(ct, ATTR_ICMP_TYPE, tu->proto == 1 ? 8 : 128);
		nfct_set_attr_u8(ct, ATTR_ICMP_CODE, 0);
	} else {
		nfct_set_attr_u16(ct, base ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC, htons(tu->sport));
		nfct_set_attr_u16(ct, base ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST, htons(tu->dport));
	}
	t->q_mode = 1;
	t->q_found = false;
	int rc = nfct_query(t->q, NFCT_Q_GET, ct);
	int e = errno;
	nfct_destroy(ct);
	if (rc < 0)
		return -e;
	return t->q_found ? 0 : -ENOENT;
}

const struct ct_entry *ct_query(struct ct_table *t, const struct ct_tuple *seen, enum ct_where *where)
{
	const struct ct_entry *e = ct_lookup(t, seen, where);
	if (e)
		return e;
	if (!t->q)
		return NULL;
	t->st.queries++;
	/* the kernel finds an entry by either of its tuples: try the tuple as
	 * an original, then as a reply (the flow may be the reply side) */
	if (get_one(t, seen, false) && get_one(t, seen, true))
		return NULL;
	t->st.query_hits++;
	upsert(t, &t->q_entry);
	return ct_lookup(t, seen, where);
}

void ct_get_stats(const struct ct_table *t, struct ct_stats *st)
{
	*st = t->st;
	st->entries = t->n;
}

/* --- events ------------------------------------------------------------------ */

void ct_label_event(const struct ct_entry *e, enum ct_where where, struct flow_event *ev)
{
	if (where == CT_ORIG_PRE_NAT && (e->status & CT_STATUS_SRC_NAT)) {
		/* the post-SNAT source is the destination of the reply tuple */
		flow_addr_format(e->reply.family, e->reply.dst, ev->ip_src_xlated);
	}
}

static int app(struct fe_buf *b, const char *s)
{
	return fe_buf_append(b, s, strlen(s));
}

static int tuple_json(struct fe_buf *b, const struct ct_tuple *t)
{
	char s[46], d[46], buf[200];
	flow_addr_format(t->family, t->src, s);
	flow_addr_format(t->family, t->dst, d);
	snprintf(buf, sizeof(buf), "{\"source\":\"%s\",\"source_port\":%u,\"destination\":\"%s\","
	         "\"destination_port\":%u}", s, t->sport, d, t->dport);
	return app(b, buf);
}

int ct_entry_json(const struct ct_entry *e, enum ct_where where, struct fe_buf *out)
{
	int rc = app(out, "{");
	bool first = true;
	const char *state = ct_tcp_state_name(e);
	char buf[64];
	if (state) {
		snprintf(buf, sizeof(buf), "\"state\":\"%s\"", state);
		rc |= app(out, buf);
		first = false;
	}
	if (e->status & (CT_STATUS_SRC_NAT | CT_STATUS_DST_NAT)) {
		rc |= app(out, first ? "\"nat\":[" : ",\"nat\":[");
		if (e->status & CT_STATUS_SRC_NAT)
			rc |= app(out, (e->status & CT_STATUS_DST_NAT) ? "\"SNAT\"," : "\"SNAT\"");
		if (e->status & CT_STATUS_DST_NAT)
			rc |= app(out, "\"DNAT\"");
		rc |= app(out, "]");
		first = false;
	}
	rc |= app(out, first ? "\"original\":" : ",\"original\":");
	rc |= tuple_json(out, &e->orig);
	rc |= app(out, ",\"reply\":");
	rc |= tuple_json(out, &e->reply);
	rc |= app(out, where <= CT_ORIG_POST_NAT ? ",\"direction\":\"original\"" : ",\"direction\":\"reply\"");
	if (e->destroyed)
		rc |= app(out, ",\"destroyed\":true");
	rc |= app(out, "}");
	return rc ? -ENOMEM : 0;
}
