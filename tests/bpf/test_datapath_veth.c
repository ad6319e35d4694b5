/*
 * The datapath programs attached to a real veth pair, in a private network
 * namespace of this process (gone when it exits, also on failure): frames
 * sent with an AF_PACKET socket on one end are counted by TC egress there
 * and by TC ingress / XDP on the other end. Checks what BPF_PROG_TEST_RUN
 * cannot reach: the VLAN tag the kernel moves to skb->vlan_tci before TC
 * ingress (it must still be the outer VID in the key and its 4 bytes must
 * be counted), and that XDP and TC give identical records for the same
 * frames. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../unit/check.h"
#include "../unit/pkt_build.h"
#include "flow_record.h"
#include "flow_table.h"
#include "xdp/flow_xdp.skel.h"
#include "tc/flow_tc.skel.h"

static char nb[256];
#define NAME(...) (snprintf(nb, sizeof(nb), __VA_ARGS__), nb)

struct env {
	struct flow_xdp_bpf *xdp;
	struct flow_tc_bpf *tc;
	struct flow_table_cfg cfg;
	struct flow_table tab;
};

static int env_open(struct env *e)
{
	const __u32 buckets = 64;
	struct bpf_map *m;
	int err;

	memset(e, 0, sizeof(*e));
	flow_table_cfg_init(&e->cfg, buckets, 99);
	e->xdp = flow_xdp_bpf__open();
	e->tc = flow_tc_bpf__open();
	if (!e->xdp || !e->tc)
		return -errno;
	FLOW_TABLE_CONFIGURE(e->xdp, &e->cfg);
	FLOW_TABLE_CONFIGURE(e->tc, &e->cfg);
	if ((err = flow_xdp_bpf__load(e->xdp)))
		return err;
	bpf_object__for_each_map(m, e->tc->obj) {
		struct bpf_map *src;

		if (bpf_map__is_internal(m) || !strncmp(bpf_map__name(m), "payload_", 8))
			continue;  /* the payload capture maps are TC's own */
		src = bpf_object__find_map_by_name(e->xdp->obj, bpf_map__name(m));
		if (!src || (err = bpf_map__reuse_fd(m, bpf_map__fd(src))))
			return src ? err : -ENOENT;
	}
	if ((err = flow_tc_bpf__load(e->tc)))
		return err;
	return flow_table_mmap(&e->tab, bpf_map__fd(e->xdp->maps.flow_sigs),
	                       bpf_map__fd(e->xdp->maps.flows), buckets);
}

static int tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static int tc_detach_all(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	            .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	return bpf_tc_hook_destroy(&hook);
}

static int send_frames(int ifindex, const struct pb *frames, int n)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
	                          .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		memcpy(sa.sll_addr, frames[i].b, 6);
		if (sendto(fd, frames[i].b, frames[i].len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
	}
	close(fd);
	usleep(100000); /* veth delivers through the backlog: let it drain */
	return 0;
}

static struct flow_key key_of(__u16 sport, __u16 vlan, int ifindex, __u8 dir)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.saddr, PB_IP4_SRC, 4);
	memcpy(k.daddr, PB_IP4_DST, 4);
	k.family = 4;
	k.proto = 17;
	k.sport = sport;
	k.dport = 9;
	k.ifindex = ifindex;
	k.direction = dir;
	k.vlan_id = vlan;
	return k;
}

/* frames: untagged, 802.1Q VID 100, QinQ 200/300; each UDP to port 9 */
static int make_frames(struct pb *f)
{
	for (int i = 0; i < 3; i++) {
		pb_init(&f[i]);
		if (i == 0) {
			pb_eth(&f[i], 0x0800);
		} else if (i == 1) {
			pb_eth(&f[i], 0x8100);
			pb_vlan(&f[i], 100, 0x0800);
		} else {
			pb_eth(&f[i], 0x88a8);
			pb_vlan(&f[i], 200, 0x8100);
			pb_vlan(&f[i], 300, 0x0800);
		}
		pb_ipv4(&f[i], 17, 5, 1, 0);
		pb_udp(&f[i], 7000 + i, 9, 100);
		pb_payload(&f[i], 100);
		pb_finish(&f[i], 0);
	}
	return 3;
}

static const __u16 vids[3] = { 0, 100, 200 };

static void expect(struct env *e, const char *what_, const struct flow_key *k, __u64 packets,
                   __u64 bytes)
{
	char what[96];
	struct flow_rec r;

	strncpy(what, what_, sizeof(what) - 1);
	what[sizeof(what) - 1] = 0;
	int n = flow_table_lookup(&e->tab, &e->cfg, k, &r);

	CHECK_U64(NAME("%s: entries", what), n, 1);
	CHECK_U64(NAME("%s: packets", what), r.packets, packets);
	CHECK_U64(NAME("%s: bytes", what), r.bytes, bytes);
	CHECK(NAME("%s: first MAC", what), memcmp(r.eth_src, PB_MAC_SRC, 6) == 0);
}

int main(void)
{
	struct env e;
	struct pb f[3];
	int ia, ib, err, n;

	if (geteuid() != 0) {
		printf("FAIL: test_datapath_veth needs root\n");
		return 1;
	}
	libbpf_set_print(NULL);
	if (unshare(CLONE_NEWNET)) {
		printf("FAIL: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	if (system("ip link set lo up && ip link add va type veth peer name vb && "
	           "ip link set va up && ip link set vb up && "
	           "sysctl -qw net.ipv6.conf.all.disable_ipv6=1") != 0) {
		printf("FAIL: veth setup\n");
		return 1;
	}
	ia = if_nametoindex("va");
	ib = if_nametoindex("vb");
	n = make_frames(f);
	err = env_open(&e);
	CHECK_U64("objects load", err, 0);
	if (err)
		return CHECK_DONE();

	/* phase 1: TC egress on va, TC ingress on vb */
	CHECK_U64("tc egress attach", tc_attach(ia, BPF_TC_EGRESS, bpf_program__fd(e.tc->progs.flow_tc_egress)), 0);
	CHECK_U64("tc ingress attach", tc_attach(ib, BPF_TC_INGRESS, bpf_program__fd(e.tc->progs.flow_tc_ingress)), 0);
	CHECK_U64("send phase 1", send_frames(ia, f, n), 0);
	CHECK_U64("send phase 1 again", send_frames(ia, f, n), 0);
	for (int i = 0; i < n; i++) {
		struct flow_key k = key_of(7000 + i, vids[i], ia, FLOW_DIR_EGRESS);
		expect(&e, NAME("tc egress frame %d (vid %u)", i, vids[i]), &k, 2, 2 * f[i].len);
		/* at ingress the stack has moved the outer tag to vlan_tci */
		k = key_of(7000 + i, vids[i], ib, FLOW_DIR_INGRESS);
		expect(&e, NAME("tc ingress frame %d (vid %u)", i, vids[i]), &k, 2, 2 * f[i].len);
	}
	tc_detach_all(ia);
	tc_detach_all(ib);

	/* phase 2: XDP (native) on vb instead: the same frames give the same
	 * ingress records, counted further */
	err = bpf_xdp_attach(ib, bpf_program__fd(e.xdp->progs.flow_xdp), XDP_FLAGS_DRV_MODE, NULL);
	CHECK_U64("xdp native attach on veth", err, 0);
	if (!err) {
		CHECK_U64("send phase 2", send_frames(ia, f, n), 0);
		for (int i = 0; i < n; i++) {
			struct flow_key k = key_of(7000 + i, vids[i], ib, FLOW_DIR_INGRESS);
			expect(&e, NAME("xdp adds to the tc ingress record, frame %d (vid %u)", i, vids[i]),
			       &k, 3, 3 * f[i].len);
		}
		bpf_xdp_detach(ib, XDP_FLAGS_DRV_MODE, NULL);
	}
	flow_table_munmap(&e.tab);
	flow_tc_bpf__destroy(e.tc);
	flow_xdp_bpf__destroy(e.xdp);
	return CHECK_DONE();
}
