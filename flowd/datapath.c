/* SPDX-License-Identifier: BSD-2-Clause */
/* Load, attach, detach and clean up the XDP and TC programs. */
#include "datapath.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "flow_record.h"
#include "flow_table.h"
#include "payload_bpf.h"
#include "policy_bpf.h"
#include "tc/flow_tc.skel.h"
#include "xdp/flow_xdp.skel.h"

/* Program names as the kernel knows them: how flowd recognises what an
 * earlier flowd left attached. */
#define XDP_PROG_NAME "flow_xdp"
#define TC_INGRESS_NAME "flow_tc_ingress"
#define TC_EGRESS_NAME "flow_tc_egress"
#define TC_CAPTURE_NAME "flow_tc_capture"
#define DISPATCHER_NAME "xdp_dispatcher"
#define BPFFS_PATH "/sys/fs/bpf"

struct dp_iface {
	struct datapath_iface pub;
	enum xdp_attach_mode xdp_attached; /* XDP_MODE_UNSPEC: not attached */
	struct bpf_tc_opts tc_in, tc_eg;   /* handle/priority of our filters */
	bool clsact_owned;                 /* we (or a killed flowd) created the qdisc */
	int lock_fd;
	char lock_path[256];
};

struct datapath {
	const struct flowd_config *cfg;
	const struct datapath_hooks *hooks;
	struct policy_bpf_maps policy_maps;   /* fds owned here (-1: none) */
	struct flow_xdp_bpf *xdp_skel;
	struct flow_tc_bpf *tc_skel;
	struct xdp_program *xdp_prog;
	int counters_fd;
	unsigned ncpus;
	struct flow_table_cfg table_cfg;  /* the same in every object's rodata */
	struct flow_table table;          /* flow_sigs + flows, mmapped */
	uint32_t n_counters;
	size_t n;
	struct dp_iface ifs[FLOWD_MAX_IFACES];
	bool detached;
};

/* --- library log output ------------------------------------------------- */

/* The print callbacks of libbpf/libxdp have no user pointer: these are the
 * only global state of the daemon. While XDP attach attempts run, warnings
 * are held back (libxdp's dispatcher probing warns even when its fallback
 * works) and printed only if the attach fails in the end. */
static int lib_verbosity;
static bool lib_hold;
static char lib_held[4096];
static size_t lib_held_len;

static int lib_print(int level, const char *fmt, va_list ap)
{
	/* level: 0 warn, 1 info, 2 debug (same order in libbpf and libxdp) */
	if (level > lib_verbosity)
		return 0;
	if (lib_hold && lib_verbosity < 2) {
		int n = vsnprintf(lib_held + lib_held_len, sizeof(lib_held) - lib_held_len, fmt, ap);
		if (n > 0)
			lib_held_len += (size_t)n < sizeof(lib_held) - lib_held_len ? (size_t)n
			                                                               : sizeof(lib_held) - lib_held_len - 1;
		return n;
	}
	fprintf(stderr, "flowd: ");
	return vfprintf(stderr, fmt, ap);
}

static void lib_hold_begin(void)
{
	lib_hold = true;
	lib_held_len = 0;
	lib_held[0] = '\0';
}

static void lib_hold_end(bool print)
{
	lib_hold = false;
	if (!print || !lib_held_len)
		return;
	for (char *line = strtok(lib_held, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "flowd: %s\n", line);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level == LIBBPF_WARN ? 0 : level == LIBBPF_INFO ? 1 : 2, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return lib_print(level == LIBXDP_WARN ? 0 : level == LIBXDP_INFO ? 1 : 2, fmt, ap);
}

/* --- checks ------------------------------------------------------------- */

static int check_privileges(struct flowd_err *e)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };
	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: the kernel will say */
	uint64_t eff = data[0].effective | (uint64_t)data[1].effective << 32;
#define HAS(cap) (eff & (1ULL << (cap)))
	if (HAS(CAP_NET_ADMIN) && (HAS(CAP_SYS_ADMIN) || HAS(CAP_BPF)))
		return 0;
#undef HAS
	return flowd_errf(e, -EPERM,
	                  "permission denied: loading and attaching eBPF programs needs root "
	                  "(CAP_BPF or CAP_SYS_ADMIN, and CAP_NET_ADMIN)");
}

/* libxdp keeps its dispatcher state in bpffs; `ip netns exec` gives a
 * fresh /sys where it is not mounted. */
static int ensure_bpffs(const struct flowd_config *cfg, struct flowd_err *e)
{
	struct statfs st;
	if (statfs(BPFFS_PATH, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(BPFFS_PATH, 0700) && errno != EEXIST)
		return flowd_errf(e, -errno, "cannot create %s for the BPF filesystem: %s", BPFFS_PATH,
		                  strerror(errno));
	if (mount("bpf", BPFFS_PATH, "bpf", 0, "mode=0700"))
		return flowd_errf(e, -errno,
		                  "cannot mount the BPF filesystem at %s (libxdp keeps its XDP dispatcher "
		                  "state there): %s", BPFFS_PATH, strerror(errno));
	if (cfg->verbose)
		fprintf(stderr, "flowd: mounted the BPF filesystem at %s\n", BPFFS_PATH);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* --- per-interface lock ---------------------------------------------------
 * One lock file per (network namespace, ifindex) under the run directory.
 * flock() dies with its holder, also on SIGKILL: a held lock means a live
 * flowd owns the interface; a free one means whatever flowd programs are
 * attached there are leftovers we may remove. The file also remembers
 * whether the owner created the clsact qdisc, so a successor can remove it.
 */

static void lock_write(struct dp_iface *dif)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "pid=%d clsact=%d\n", (int)getpid(), dif->clsact_owned);
	if (ftruncate(dif->lock_fd, 0) == 0 && pwrite(dif->lock_fd, buf, (size_t)len, 0) != len)
		fprintf(stderr, "flowd: warning: cannot write %s\n", dif->lock_path);
}

static int lock_iface(const struct flowd_config *cfg, struct dp_iface *dif, struct flowd_err *e)
{
	struct stat ns;
	if (stat("/proc/self/ns/net", &ns))
		return flowd_errf(e, -errno, "cannot identify the network namespace: %s", strerror(errno));
	int err = mkdir_p(cfg->run_dir);
	if (err)
		return flowd_errf(e, err, "cannot create %s: %s", cfg->run_dir, strerror(-err));
	snprintf(dif->lock_path, sizeof(dif->lock_path), "%s/iface-%llu-%d.lock", cfg->run_dir,
	         (unsigned long long)ns.st_ino, dif->pub.ifindex);
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(dif->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return flowd_errf(e, -errno, "cannot open %s: %s", dif->lock_path, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			char buf[64] = "";
			ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			int pid = 0;
			sscanf(buf, "pid=%d", &pid);
			close(fd);
			return flowd_errf(e, -EBUSY, "%s: already observed by another flowd (pid %d)",
			                  dif->pub.name, pid);
		}
		/* The previous holder may have unlinked the file between our
		 * open and flock: then lock the new file instead. */
		struct stat a, b;
		if (fstat(fd, &a) || stat(dif->lock_path, &b) || a.st_ino != b.st_ino) {
			close(fd);
			continue;
		}
		char buf[64] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		int pid = 0, clsact = 0;
		if (sscanf(buf, "pid=%d clsact=%d", &pid, &clsact) == 2 && clsact)
			dif->clsact_owned = true; /* inherited from a killed flowd */
		dif->lock_fd = fd;
		lock_write(dif);
		return 0;
	}
	return flowd_errf(e, -EBUSY, "%s: cannot take the lock %s", dif->pub.name, dif->lock_path);
}

static void unlock_iface(struct dp_iface *dif)
{
	if (dif->lock_fd < 0)
		return;
	unlink(dif->lock_path);
	close(dif->lock_fd);
	dif->lock_fd = -1;
}

/* --- leftovers ------------------------------------------------------------ */

static int prog_name_by_id(uint32_t id, char name[BPF_OBJ_NAME_LEN])
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return err;
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	name[BPF_OBJ_NAME_LEN - 1] = '\0';
	return 0;
}

/* Does any freplace link still run a program inside dispatcher prog_id? */
static bool dispatcher_has_links(uint32_t prog_id)
{
	uint32_t id = 0;
	while (!bpf_link_get_next_id(id, &id)) {
		int fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		struct bpf_link_info info = { 0 };
		uint32_t len = sizeof(info);
		bool hit = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		           info.type == BPF_LINK_TYPE_TRACING && info.tracing.target_obj_id == prog_id;
		close(fd);
		if (hit)
			return true;
	}
	return false;
}

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "skb";
	case XDP_MODE_HW: return "hw";
	default: return "unknown";
	}
}

/* Remove the XDP programs a killed flowd left on this interface, and find
 * out what else is there. *existing = the mode of a libxdp dispatcher we
 * can join, XDP_MODE_UNSPEC if none. Refuses a foreign program that cannot
 * be shared when XDP is wanted. */
static int xdp_cleanup_and_check(const struct flowd_config *cfg, struct dp_iface *dif,
                                 enum xdp_attach_mode *existing, struct flowd_err *e)
{
	*existing = XDP_MODE_UNSPEC;
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(dif->pub.ifindex);
	if (libxdp_get_error(mp) || !mp)
		return 0;
	int err = 0;
	enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		struct xdp_program *main_prog = xdp_multiprog__main_prog(mp);
		const char *name = main_prog ? xdp_program__name(main_prog) : "";
		uint32_t id = main_prog ? xdp_program__id(main_prog) : 0;
		if (!strcmp(name, XDP_PROG_NAME) ||
		    (!strcmp(name, DISPATCHER_NAME) && !dispatcher_has_links(id))) {
			/* Ours, attached without a dispatcher; or a dispatcher
			 * whose programs are gone with the bpffs that held their
			 * links (a killed flowd under `ip netns exec`): it only
			 * passes packets. */
			err = xdp_multiprog__detach(mp);
			if (err)
				err = flowd_errf(e, err, "%s: cannot remove the leftover XDP program %s (id %u): %s",
				                 dif->pub.name, name, id, strerror(-err));
			else
				fprintf(stderr, "flowd: %s: removed leftover XDP program %s (id %u)\n",
				        dif->pub.name, name, id);
		} else if (cfg->xdp_mode != FLOWD_XDP_OFF) {
			err = flowd_errf(e, -EBUSY,
			                 "%s: XDP program '%s' (id %u) is attached in %s mode without the libxdp "
			                 "dispatcher, so it cannot be shared; detach it, or run flowd with "
			                 "--xdp-mode off to observe with TC only",
			                 dif->pub.name, name, id, mode_name(mode));
		}
		xdp_multiprog__close(mp);
		return err;
	}
	uint32_t ours[16];
	size_t n_ours = 0;
	for (struct xdp_program *p = xdp_multiprog__next_prog(NULL, mp); p && !libxdp_get_error(p);
	     p = xdp_multiprog__next_prog(p, mp)) {
		if (!strcmp(xdp_program__name(p), XDP_PROG_NAME) && n_ours < 16)
			ours[n_ours++] = xdp_program__id(p);
	}
	int total = xdp_multiprog__program_count(mp);
	xdp_multiprog__close(mp);
	for (size_t i = 0; i < n_ours; i++) {
		struct xdp_program *p = xdp_program__from_id(ours[i]);
		if (libxdp_get_error(p) || !p)
			continue;
		err = xdp_program__detach(p, dif->pub.ifindex, mode, 0);
		xdp_program__close(p);
		if (err)
			return flowd_errf(e, err, "%s: cannot remove the leftover XDP program %s (id %u): %s",
			                  dif->pub.name, XDP_PROG_NAME, ours[i], strerror(-err));
		fprintf(stderr, "flowd: %s: removed leftover XDP program %s (id %u)\n", dif->pub.name,
		        XDP_PROG_NAME, ours[i]);
	}
	if (total > (int)n_ours)
		*existing = mode;
	return 0;
}

static int tc_cleanup(struct dp_iface *dif, struct flowd_err *e)
{
	for (int egress = 0; egress < 2; egress++) {
		struct tc_filter_info f[64];
		size_t n;
		int err = tc_list_filters(dif->pub.ifindex, egress, f, 64, &n);
		if (err)
			return flowd_errf(e, err, "%s: cannot list TC filters: %s", dif->pub.name, strerror(-err));
		for (size_t i = 0; i < n && i < 64; i++) {
			char name[BPF_OBJ_NAME_LEN];
			if (!f[i].is_bpf || !f[i].prog_id || prog_name_by_id(f[i].prog_id, name))
				continue;
			if (strcmp(name, TC_INGRESS_NAME) && strcmp(name, TC_EGRESS_NAME) &&
			    strcmp(name, TC_CAPTURE_NAME))
				continue;
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dif->pub.ifindex,
			            .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, o, .handle = f[i].handle, .priority = f[i].priority);
			err = bpf_tc_detach(&hook, &o);
			if (err)
				return flowd_errf(e, err, "%s: cannot remove the leftover TC program %s: %s",
				                  dif->pub.name, name, strerror(-err));
			fprintf(stderr, "flowd: %s: removed leftover TC %s program %s (id %u)\n", dif->pub.name,
			        egress ? "egress" : "ingress", name, f[i].prog_id);
		}
	}
	return 0;
}

/* --- load and attach ------------------------------------------------------ */

/* Say so when libxdp could not use its dispatcher and attached our program
 * directly: then nothing else can share the interface's XDP hook. */
static void note_legacy(const struct dp_iface *dif)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(dif->pub.ifindex);
	if (libxdp_get_error(mp) || !mp)
		return;
	if (xdp_multiprog__is_legacy(mp))
		fprintf(stderr,
		        "flowd: %s: note: libxdp could not use its multi-program dispatcher here (details "
		        "with -vv): flowd's XDP program is attached directly, so no other XDP program can "
		        "share %s while flowd runs\n", dif->pub.name, dif->pub.name);
	xdp_multiprog__close(mp);
}

static int xdp_attach_iface(struct datapath *dp, struct dp_iface *dif, enum xdp_attach_mode existing,
                            struct flowd_err *e)
{
	enum xdp_attach_mode tries[2];
	size_t n = 0;
	switch (dp->cfg->xdp_mode) {
	case FLOWD_XDP_NATIVE: tries[n++] = XDP_MODE_NATIVE; break;
	case FLOWD_XDP_SKB: tries[n++] = XDP_MODE_SKB; break;
	default:
		if (existing != XDP_MODE_UNSPEC) {
			tries[n++] = existing; /* join the dispatcher that is there */
		} else {
			tries[n++] = XDP_MODE_NATIVE;
			tries[n++] = XDP_MODE_SKB;
		}
		break;
	}
	int err = 0;
	lib_hold_begin();
	for (size_t i = 0; i < n; i++) {
		err = xdp_program__attach(dp->xdp_prog, dif->pub.ifindex, tries[i], 0);
		if (!err) {
			lib_hold_end(false);
			dif->xdp_attached = tries[i];
			dif->pub.xdp_mode = mode_name(tries[i]);
			note_legacy(dif);
			return 0;
		}
		if (dp->cfg->verbose && i + 1 < n)
			fprintf(stderr, "flowd: %s: XDP %s mode failed (%s), trying %s mode\n", dif->pub.name,
			        mode_name(tries[i]), strerror(-err), mode_name(tries[i + 1]));
	}
	lib_hold_end(true);
	const char *hint = "";
	if (existing != XDP_MODE_UNSPEC && existing != tries[n - 1])
		hint = " (a libxdp dispatcher is already attached in another mode: use that mode)";
	else if (err == -EEXIST || err == -EBUSY)
		hint = " (another XDP program holds the interface)";
	return flowd_errf(e, err, "%s: cannot attach XDP in %s mode: %s%s", dif->pub.name,
	                  mode_name(tries[n - 1]), strerror(-err), hint);
}

static int tc_attach_iface(struct datapath *dp, struct dp_iface *dif, bool egress, struct flowd_err *e)
{
	struct bpf_program *prog = egress ? dp->tc_skel->progs.flow_tc_egress : dp->tc_skel->progs.flow_tc_ingress;
	/* XDP counts ingress; TC ingress then only captures L7 payloads */
	if (!egress && dp->cfg->xdp_mode != FLOWD_XDP_OFF)
		prog = dp->tc_skel->progs.flow_tc_capture;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dif->pub.ifindex,
	            .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);
	if (!err) {
		dif->clsact_owned = true;
		lock_write(dif);
	} else if (err != -EEXIST) {
		return flowd_errf(e, err, "%s: cannot create the clsact qdisc: %s", dif->pub.name, strerror(-err));
	}
	struct bpf_tc_opts *o = egress ? &dif->tc_eg : &dif->tc_in;
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&hook, o);
	if (err) {
		memset(o, 0, sizeof(*o));
		return flowd_errf(e, err, "%s: cannot attach the TC %s program: %s", dif->pub.name,
		                  egress ? "egress" : "ingress", strerror(-err));
	}
	if (egress)
		dif->pub.tc_egress = true;
	else
		dif->pub.tc_ingress = true;
	return 0;
}

/* The TC object uses the XDP object's maps (same names): one flow table. */
static int tc_share_maps(struct datapath *dp, struct flowd_err *e)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, dp->tc_skel->obj) {
		struct bpf_map *src = bpf_object__find_map_by_name(dp->xdp_skel->obj, bpf_map__name(m));
		if (!src || bpf_map__is_internal(m))
			continue;
		int err = bpf_map__reuse_fd(m, bpf_map__fd(src));
		if (err)
			return flowd_errf(e, err, "cannot share map %s between XDP and TC: %s", bpf_map__name(m),
			                  strerror(-err));
	}
	return 0;
}

/* The policy maps, created here rather than when libxdp loads the XDP
 * object at its first attach: so they can be filled before any program
 * runs. Both objects use them (tc_share_maps() passes them on). */
static int create_policy_maps(struct datapath *dp, struct bpf_object *obj, struct flowd_err *e)
{
	static const char *const names[] = { "policy_state", "policy_meta", "policy_addr_0",
		                             "policy_addr_1", "policy_rules_0", "policy_rules_1",
		                             "policy_counters" };
	int *fds[] = { &dp->policy_maps.state, &dp->policy_maps.meta, &dp->policy_maps.addr[0],
		       &dp->policy_maps.addr[1], &dp->policy_maps.rules[0], &dp->policy_maps.rules[1],
		       &dp->policy_maps.counters };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, names[i]);
		if (!m)
			return flowd_errf(e, -ENOENT, "the BPF object has no map %s: flowd and its BPF "
			                  "objects come from different builds", names[i]);
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = bpf_map__map_flags(m));
		int fd = bpf_map_create(bpf_map__type(m), names[i], bpf_map__key_size(m),
		                        bpf_map__value_size(m), bpf_map__max_entries(m), &o);
		if (fd < 0)
			return flowd_errf(e, -errno, "cannot create the map %s: %s", names[i], strerror(errno));
		*fds[i] = fd;
		int err = bpf_map__reuse_fd(m, fd);
		if (err)
			return flowd_errf(e, err, "cannot use the map %s: %s", names[i], strerror(-err));
	}
	return dp->hooks && dp->hooks->policy_maps ? dp->hooks->policy_maps(dp->hooks->user, &dp->policy_maps, e)
	                                           : 0;
}

static int load_programs(struct datapath *dp, struct flowd_err *e)
{
	const struct flowd_config *cfg = dp->cfg;
	bool use_xdp = cfg->xdp_mode != FLOWD_XDP_OFF;
	int err;
	struct bpf_map *sigs = NULL, *flows = NULL, *counters = NULL;

	/* Random hash keys per run: flows cannot be crafted to collide. */
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	flow_table_cfg_init(&dp->table_cfg, flow_table_buckets_for(cfg->map_size), seed | 1);

	if (use_xdp) {
		dp->xdp_skel = flow_xdp_bpf__open();
		if (!dp->xdp_skel)
			return flowd_errf(e, -errno, "cannot open the XDP object: %s", strerror(errno));
		FLOW_TABLE_CONFIGURE(dp->xdp_skel, &dp->table_cfg);
		dp->xdp_prog = xdp_program__from_bpf_obj(dp->xdp_skel->obj, NULL);
		err = (int)libxdp_get_error(dp->xdp_prog);
		if (err || !dp->xdp_prog) {
			dp->xdp_prog = NULL;
			return flowd_errf(e, err ? err : -EINVAL, "cannot prepare the XDP program: %s",
			                  strerror(err ? -err : EINVAL));
		}
		sigs = dp->xdp_skel->maps.flow_sigs;
		flows = dp->xdp_skel->maps.flows;
		counters = dp->xdp_skel->maps.flow_counters;
	}
	if (cfg->tc) {
		dp->tc_skel = flow_tc_bpf__open();
		if (!dp->tc_skel)
			return flowd_errf(e, -errno, "cannot open the TC object: %s", strerror(errno));
		FLOW_TABLE_CONFIGURE(dp->tc_skel, &dp->table_cfg);
		/* Ingress is XDP's job when XDP is on; TC ingress then only
		 * captures payloads for L7 (flowd/payload.c). */
		bpf_program__set_autoload(dp->tc_skel->progs.flow_tc_ingress, !use_xdp);
		bpf_program__set_autoload(dp->tc_skel->progs.flow_tc_capture, use_xdp && cfg->l7.on);
		err = payload_bpf_prepare(dp->tc_skel->obj, cfg->l7.on ? cfg->l7.ring_size : 4096);
		if (err)
			return flowd_errf(e, err, "--ring-size: %s", strerror(-err));
		if (!use_xdp) {
			sigs = dp->tc_skel->maps.flow_sigs;
			flows = dp->tc_skel->maps.flows;
			counters = dp->tc_skel->maps.flow_counters;
		}
	}
	if (bpf_map__value_size(flows) != sizeof(struct flow_entry) ||
	    bpf_map__value_size(sigs) != sizeof(struct flow_sig_bucket))
		return flowd_errf(e, -EINVAL,
		                  "the flow table's entry sizes (%u/%u) differ from flowd's (%zu/%zu): "
		                  "flowd and the BPF objects come from different builds",
		                  bpf_map__value_size(flows), bpf_map__value_size(sigs),
		                  sizeof(struct flow_entry), sizeof(struct flow_sig_bucket));

	if ((err = create_policy_maps(dp, use_xdp ? dp->xdp_skel->obj : dp->tc_skel->obj, e)))
		return err;

	/* Leftovers first, then attach. libxdp loads the XDP object on the
	 * first attach (as an extension of its dispatcher, or directly), so
	 * its maps get fds there; the TC object is loaded after it and reuses
	 * them. */
	enum xdp_attach_mode existing[FLOWD_MAX_IFACES];
	for (size_t i = 0; i < dp->n; i++) {
		err = xdp_cleanup_and_check(cfg, &dp->ifs[i], &existing[i], e);
		if (err)
			return err;
		err = tc_cleanup(&dp->ifs[i], e);
		if (err)
			return err;
	}
	if (use_xdp) {
		for (size_t i = 0; i < dp->n; i++) {
			err = xdp_attach_iface(dp, &dp->ifs[i], existing[i], e);
			if (err)
				return err;
		}
	}
	if (cfg->tc) {
		if (use_xdp && (err = tc_share_maps(dp, e)))
			return err;
		err = flow_tc_bpf__load(dp->tc_skel);
		if (err)
			return flowd_errf(e, err, "cannot load the TC programs: %s", strerror(-err));
		if (cfg->l7.on) {
			char msg[256];
			err = payload_bpf_configure(dp->tc_skel->obj, &cfg->l7.select, msg, sizeof(msg));
			if (err)
				return flowd_errf(e, err, "%s", msg);
		}
		for (size_t i = 0; i < dp->n; i++) {
			if ((!use_xdp || cfg->l7.on) && (err = tc_attach_iface(dp, &dp->ifs[i], false, e)))
				return err;
			if ((err = tc_attach_iface(dp, &dp->ifs[i], true, e)))
				return err;
		}
	}
	dp->counters_fd = bpf_map__fd(counters);
	dp->n_counters = bpf_map__max_entries(counters);
	err = flow_table_mmap(&dp->table, bpf_map__fd(sigs), bpf_map__fd(flows), dp->table_cfg.buckets);
	if (err)
		return flowd_errf(e, err, "cannot map the flow table into memory: %s", strerror(-err));
	return 0;
}

int datapath_open(const struct flowd_config *cfg, const struct datapath_hooks *hooks,
                  struct datapath **out, struct flowd_err *e)
{
	*out = NULL;
	lib_verbosity = cfg->verbose >= 2 ? 2 : 0;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);

	struct datapath *dp = calloc(1, sizeof(*dp));
	if (!dp)
		return flowd_errf(e, -ENOMEM, "out of memory");
	dp->cfg = cfg;
	dp->hooks = hooks;
	dp->counters_fd = -1;
	dp->policy_maps = (struct policy_bpf_maps){ -1, -1, { -1, -1 }, { -1, -1 }, -1 };
	int ncpus = libbpf_num_possible_cpus();
	dp->ncpus = ncpus > 0 ? (unsigned)ncpus : 1;
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		struct dp_iface *dif = &dp->ifs[dp->n++];
		dif->lock_fd = -1;
		snprintf(dif->pub.name, sizeof(dif->pub.name), "%s", cfg->ifnames[i]);
		dif->pub.ifindex = (int)if_nametoindex(cfg->ifnames[i]);
		if (!dif->pub.ifindex) {
			flowd_errf(e, -ENODEV, "%s: no such interface", cfg->ifnames[i]);
			goto fail;
		}
	}
	if (check_privileges(e))
		goto fail;
	if (cfg->xdp_mode != FLOWD_XDP_OFF && ensure_bpffs(cfg, e))
		goto fail;
	for (size_t i = 0; i < dp->n; i++)
		if (lock_iface(cfg, &dp->ifs[i], e))
			goto fail;
	if (load_programs(dp, e))
		goto fail;
	*out = dp;
	return 0;
fail:
	datapath_detach(dp);
	datapath_close(dp);
	return e->code ? e->code : -EINVAL;
}

void datapath_detach(struct datapath *dp)
{
	if (!dp || dp->detached)
		return;
	dp->detached = true;
	for (size_t i = 0; i < dp->n; i++) {
		struct dp_iface *dif = &dp->ifs[i];
		if (dif->xdp_attached != XDP_MODE_UNSPEC) {
			int err = xdp_program__detach(dp->xdp_prog, dif->pub.ifindex, dif->xdp_attached, 0);
			if (err)
				fprintf(stderr, "flowd: %s: cannot detach XDP: %s\n", dif->pub.name, strerror(-err));
			dif->xdp_attached = XDP_MODE_UNSPEC;
			dif->pub.xdp_mode = NULL;
		}
		for (int egress = 0; egress < 2; egress++) {
			struct bpf_tc_opts *o = egress ? &dif->tc_eg : &dif->tc_in;
			if (!o->handle)
				continue;
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dif->pub.ifindex,
			            .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, d, .handle = o->handle, .priority = o->priority);
			int err = bpf_tc_detach(&hook, &d);
			if (err && err != -ENOENT)
				fprintf(stderr, "flowd: %s: cannot detach the TC %s program: %s\n", dif->pub.name,
				        egress ? "egress" : "ingress", strerror(-err));
			memset(o, 0, sizeof(*o));
		}
		dif->pub.tc_ingress = dif->pub.tc_egress = false;
		if (dif->clsact_owned) {
			/* Remove the qdisc we created, unless someone else put
			 * filters on it meanwhile. */
			size_t n_in = 1, n_eg = 1;
			struct tc_filter_info f[1];
			if (!tc_list_filters(dif->pub.ifindex, false, f, 1, &n_in) &&
			    !tc_list_filters(dif->pub.ifindex, true, f, 1, &n_eg) && !n_in && !n_eg) {
				LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = dif->pub.ifindex,
				            .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
				int err = bpf_tc_hook_destroy(&hook);
				if (err && err != -ENOENT && err != -EINVAL)
					fprintf(stderr, "flowd: %s: cannot remove the clsact qdisc: %s\n",
					        dif->pub.name, strerror(-err));
			}
			dif->clsact_owned = false;
		}
		unlock_iface(dif);
	}
}

void datapath_close(struct datapath *dp)
{
	if (!dp)
		return;
	for (size_t i = 0; i < dp->n; i++)
		unlock_iface(&dp->ifs[i]);
	/* The xdp_program references the skeleton's object: close it first,
	 * without closing the object it does not own. */
	if (dp->xdp_prog)
		xdp_program__close(dp->xdp_prog);
	flow_table_munmap(&dp->table);
	flow_tc_bpf__destroy(dp->tc_skel);
	flow_xdp_bpf__destroy(dp->xdp_skel);
	int *pm[] = { &dp->policy_maps.state, &dp->policy_maps.meta, &dp->policy_maps.addr[0],
		      &dp->policy_maps.addr[1], &dp->policy_maps.rules[0], &dp->policy_maps.rules[1],
		      &dp->policy_maps.counters };
	for (size_t i = 0; i < sizeof(pm) / sizeof(pm[0]); i++)
		if (*pm[i] >= 0)
			close(*pm[i]);
	free(dp);
}

size_t datapath_n_ifaces(const struct datapath *dp) { return dp->n; }

const struct datapath_iface *datapath_iface(const struct datapath *dp, size_t i)
{
	return i < dp->n ? &dp->ifs[i].pub : NULL;
}

const char *datapath_ifname(const struct datapath *dp, uint32_t ifindex)
{
	for (size_t i = 0; i < dp->n; i++)
		if ((uint32_t)dp->ifs[i].pub.ifindex == ifindex)
			return dp->ifs[i].pub.name;
	return NULL;
}

struct flow_table *datapath_table(struct datapath *dp) { return &dp->table; }
struct bpf_object *datapath_tc_object(const struct datapath *dp) { return dp->tc_skel ? dp->tc_skel->obj : NULL; }
const struct flow_table_cfg *datapath_table_cfg(const struct datapath *dp) { return &dp->table_cfg; }
uint32_t datapath_table_slots(const struct datapath *dp) { return dp->table_cfg.buckets * FLOW_BUCKET_WAYS; }

size_t datapath_prog_fds(const struct datapath *dp, int *fds, size_t max)
{
	size_t n = 0;
	int fd;
	if (dp->xdp_prog && n < max && (fd = xdp_program__fd(dp->xdp_prog)) >= 0)
		fds[n++] = fd;
	if (dp->tc_skel) {
		if (n < max && (fd = bpf_program__fd(dp->tc_skel->progs.flow_tc_ingress)) >= 0)
			fds[n++] = fd;
		if (n < max && (fd = bpf_program__fd(dp->tc_skel->progs.flow_tc_capture)) >= 0)
			fds[n++] = fd;
		if (n < max && (fd = bpf_program__fd(dp->tc_skel->progs.flow_tc_egress)) >= 0)
			fds[n++] = fd;
	}
	return n;
}

int datapath_read_counters(const struct datapath *dp, uint64_t *out, size_t max)
{
	uint64_t percpu[dp->ncpus];
	size_t n = dp->n_counters < max ? dp->n_counters : max;
	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(dp->counters_fd, &i, percpu))
			return -errno;
		out[i] = 0;
		for (unsigned c = 0; c < dp->ncpus; c++)
			out[i] += percpu[c];
	}
	return (int)n;
}

const char *datapath_counter_name(size_t i)
{
	return flow_counter_name((int)i);
}
