# flowd — network flow observer. `make` builds build/flowd and build/flowctl.
#
#   make           build everything (installs missing Debian packages first)
#   make deps      install the Debian packages the build, tests and demo need
#   make test      run every test; last line: "N passed, N failed"
#   make demo      live demo in private network namespaces
#   make fuzz      libFuzzer targets (ASan+UBSan), FUZZ_SECONDS each
#   make bench     benchmarks (not tests): BPF ns/packet, replay throughput

BUILD    ?= build
CC       := gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
FUZZ_SECONDS ?= 30

# Everything a fresh Debian 12 machine needs to build, test and demo.
DEB_PKGS := make gcc clang llvm pkg-config libbpf-dev libxdp-dev bpftool xdp-tools \
	libpcap-dev node-llhttp libnghttp2-dev libnetfilter-conntrack-dev libjansson-dev \
	libyaml-dev librdkafka-dev libclang-rt-14-dev libelf-dev zlib1g-dev \
	iproute2 iputils-ping ethtool nftables conntrack procps psmisc \
	nginx nghttp2-server nghttp2-client dnsmasq-base bind9-dnsutils curl kcat wrk \
	tcpdump tshark jq python3 python3-scapy python3-grpcio python3-h2 python3-kafka python3-yaml

CFLAGS   := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-Iinclude -Ilib -Il7 -I$(BUILD) -I/usr/share/include/llhttp -MMD -MP
LDLIBS   := -lbpf -lxdp -lelf -lz -lpcap -ljansson -lnghttp2 \
	-lnetfilter_conntrack -lnfnetlink -lyaml -lm

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
	-Iinclude -I/usr/include/x86_64-linux-gnu

# Sources are discovered: adding a file to a folder adds it to the build.
BPF_SRCS    := $(wildcard xdp/*.bpf.c tc/*.bpf.c tests/bpf/*.bpf.c)
BPF_OBJS    := $(BPF_SRCS:%.bpf.c=$(BUILD)/%.bpf.o)
SKELS       := $(BPF_SRCS:%.bpf.c=$(BUILD)/%.skel.h)
LIB_SRCS    := $(wildcard lib/*.c l7/*.c)
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LLHTTP_DIR  := /usr/share/llhttp
LLHTTP_OBJS := $(BUILD)/obj/llhttp/llhttp.o $(BUILD)/obj/llhttp/api.o $(BUILD)/obj/llhttp/http.o
FLOWD_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard flowd/*.c))
# flowd's modules without main(): linked into unit tests and test tools
FLOWD_MODS  := $(filter-out $(BUILD)/obj/flowd/main.o,$(FLOWD_OBJS))
CLI_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/*.c))
# tests/unit/test_*.c and tests/bpf/test_*.c are test programs; other .c
# files there are support code linked into each of them.
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_SUPPORT:= $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c)))
BPFT_BINS   := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(wildcard tests/bpf/test_*.c))
BENCH_BINS  := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))

.PHONY: all deps test fuzz bench demo clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/flowd $(BUILD)/flowctl

# Installs only what is missing, so it is cheap to run every time.
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install packages" >&2; exit 1; fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# --- BPF -------------------------------------------------------------------
$(BUILD)/%.bpf.o: %.bpf.c $(wildcard include/*.h) | deps
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# the benchmark's "TC without payload capture" is tc/flow_tc.bpf.c itself
$(BUILD)/tests/bpf/bench_tc_nocap.bpf.o: tc/flow_tc.bpf.c

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# --- user space ----------------------------------------------------------------
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -fPIC -w -I/usr/share/include/llhttp -c $< -o $@

$(BUILD)/obj/%.o: %.c | deps $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libflowd.a: $(LIB_OBJS) $(LLHTTP_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The parser registry refers to the parsers weakly (l7/registry.c), and a
# weak reference never pulls a member out of an archive: programs take the
# whole library so every parser in l7/ is linked in.
WHOLE_LIB = -Wl,--whole-archive $(BUILD)/libflowd.a -Wl,--no-whole-archive

$(BUILD)/flowd: $(FLOWD_OBJS) $(BUILD)/libflowd.a
	$(CC) -o $@ $(FLOWD_OBJS) $(WHOLE_LIB) $(LDLIBS)

$(BUILD)/flowctl: $(CLI_OBJS) $(BUILD)/libflowd.a
	$(CC) -o $@ $(CLI_OBJS) $(WHOLE_LIB) $(LDLIBS)

$(BUILD)/libflowd-daemon.a: $(FLOWD_MODS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_SUPPORT) $(BUILD)/libflowd-daemon.a $(BUILD)/libflowd.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/bpf/%.o $(BUILD)/libflowd.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/libflowd.a
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(WHOLE_LIB) $(LDLIBS)

# librdkafka's mock Kafka cluster behind a CLI: Kafka captures and live tests.
$(BUILD)/tools/kafka_mock: tests/tools/kafka_mock.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lrdkafka

# The observer ring and socket API fed from NDJSON: flowctl observe/status
# tests without a kernel datapath.
$(BUILD)/tools/observer_harness: $(BUILD)/obj/tests/tools/observer_harness.o $(BUILD)/libflowd-daemon.a $(BUILD)/libflowd.a
	@mkdir -p $(@D)
	$(CC) -o $@ $^ $(LDLIBS)

# --- entry points ----------------------------------------------------------------
test: all $(UNIT_BINS) $(BPFT_BINS) $(BUILD)/tools/kafka_mock $(BUILD)/tools/observer_harness
	@tests/run.sh

demo: all $(BUILD)/tools/kafka_mock
	@tests/demo.sh

bench: all $(BENCH_BINS)
	@tests/bench/run.sh

# Fuzz targets: everything rebuilt with clang, ASan and UBSan.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Iinclude -Ilib -Il7 -I$(BUILD) -I/usr/share/include/llhttp
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz-obj/%.o) $(LLHTTP_OBJS:$(BUILD)/obj/%=$(BUILD)/fuzz-obj/%)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz-obj/llhttp/%.o: $(LLHTTP_DIR)/%.c | deps
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@

$(BUILD)/fuzz-obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Wall -Wextra -Werror -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
