# e2e-chat - end-to-end encrypted chat as a set of small Unix tools.
#
#   make                build every tool into bin/
#   make check          build and run every test (unit, then bats)
#   make sanitize       the whole suite under AddressSanitizer + UBSan
#   make memcheck       the main bats flows under valgrind's memcheck
#   make bench          benchmarks against age and openssl (not a test)
#   make demo           the main job: a server, two users, messages both ways
#   make deps           install the Debian packages the project needs
#   make install PREFIX=/usr/local DESTDIR=...  (tools, man pages, completion)
#   make uninstall PREFIX=... DESTDIR=...       (exactly what install put)
#
# WERROR=1 turns warnings into errors (CI sets it).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# Where bash-completion looks for a command's completion, by its name.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR ?=
BUILD ?= build
BIN ?= bin
CC ?= cc
PKG_CONFIG ?= pkg-config

TOOLS = e2e-keygen e2e-encrypt e2e-decrypt e2e-server e2e-account e2e-send \
	e2e-recv e2e-keys e2e-chat
# The client tools that talk to the server (libcurl): lib/net/.
NET_TOOLS = e2e-account e2e-send e2e-recv e2e-keys
# The crypto tools: libe2e.a alone, nothing of lib/net or lib/server.
CRYPTO_TOOLS = $(filter-out e2e-server e2e-chat $(NET_TOOLS),$(TOOLS))

# The library's layers (lib/README.md): base, format and keys make
# libe2e.a, which every tool links. Which folder may include which is
# checked by scripts/lint.sh.
LIB_DIRS = lib/base lib/format lib/keys
LIB_SRCS = $(wildcard $(LIB_DIRS:%=%/*.c))
# The server's modules: only e2e-server links them and their libraries.
SERVER_SRCS = $(wildcard lib/server/*.c)
# The client's network modules: only the client tools link them and curl.
NET_SRCS = $(wildcard lib/net/*.c)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)

CRYPTO_PKGS = libcrypto jansson

ifeq ($(shell $(PKG_CONFIG) --exists $(CRYPTO_PKGS) && echo yes),)
$(warning pkg-config cannot find: $(CRYPTO_PKGS); run 'make deps')
endif

SERVER_PKGS = libmicrohttpd sqlite3 libpq libjwt libcrypt
NET_PKGS = libcurl
# QR codes (lib/keys/qr.c): e2e-keys and the unit tests only.
QR_PKGS = libqrencode libpng

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(CRYPTO_PKGS) 2>/dev/null)
SERVER_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(SERVER_PKGS) 2>/dev/null)
SERVER_LIBS := $(shell $(PKG_CONFIG) --libs $(SERVER_PKGS) 2>/dev/null)
NET_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(NET_PKGS) 2>/dev/null)
NET_LIBS := $(shell $(PKG_CONFIG) --libs $(NET_PKGS) 2>/dev/null)
QR_LIBS := $(shell $(PKG_CONFIG) --libs $(QR_PKGS) 2>/dev/null)
# Line editing (e2e-chat only).
EDIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libedit 2>/dev/null)
EDIT_LIBS := $(shell $(PKG_CONFIG) --libs libedit 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(CRYPTO_PKGS) 2>/dev/null) -pthread
# STATIC=1 links libcrypto and jansson into the tools: about 0.4 ms less
# start-up (libcrypto.so is bound at load time, ~3000 symbols), at the
# price of rebuilding the tools for every OpenSSL security update. The
# default stays dynamic, so the distribution's updates apply.
ifeq ($(STATIC),1)
TOOL_LIBS := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(CRYPTO_PKGS) \
	2>/dev/null) -Wl,-Bdynamic -ldl -pthread
else
TOOL_LIBS := $(PKG_LIBS)
endif

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wpointer-arith -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS ?=
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -Ilib \
	$(PKG_CFLAGS) $(SAN) $(CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

# V=1 shows the full commands.
ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-6s %s\n'
endif

LIB = $(BUILD)/libe2e.a
# The same library with the test hooks (fixed randomness and clock) for
# the unit tests only; the tools never link it.
TEST_LIB = $(BUILD)/test/libe2e-test.a

LIB_OBJS = $(LIB_SRCS:lib/%.c=$(BUILD)/lib/%.o)
SERVER_LIB = $(BUILD)/libe2e-server.a
NET_LIB = $(BUILD)/libe2e-net.a
NET_OBJS = $(NET_SRCS:lib/%.c=$(BUILD)/lib/%.o)
SERVER_OBJS = $(SERVER_SRCS:lib/%.c=$(BUILD)/lib/%.o)
TEST_LIB_OBJS = $(LIB_SRCS:lib/%.c=$(BUILD)/test/lib/%.o)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SERVER_LIB = $(BUILD)/test/libe2e-server-test.a
TEST_SERVER_OBJS = $(SERVER_SRCS:lib/%.c=$(BUILD)/test/lib/%.o)
TEST_NET_LIB = $(BUILD)/test/libe2e-net-test.a
TEST_NET_OBJS = $(NET_SRCS:lib/%.c=$(BUILD)/test/lib/%.o)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz_*.c)
# fuzz_net_*.c drive the client's modules in process, through the HTTP
# layer's test hook: they link the net library built with the hooks;
# fuzz_srv_*.c the server's modules.
FUZZ_NET_SRCS = $(wildcard tests/fuzz/fuzz_net_*.c)
# Each fuzz target also builds as a plain program that replays its
# committed corpus (tests/fuzz/corpus/<target>/), run with the unit tests.
FUZZ_REPLAY_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/%-replay)
FUZZ_SECONDS ?= 60
TOOL_BINS = $(TOOLS:%=$(BIN)/%)
# The man pages: every docs/man/NAME.SECTION.scd becomes
# $(BUILD)/man/NAME.SECTION (scdoc).
MAN_SRCS = $(wildcard docs/man/*.scd)
MAN_PAGES = $(MAN_SRCS:docs/man/%.scd=$(BUILD)/man/%)
MAN_SECTIONS = $(sort $(subst .,,$(suffix $(MAN_PAGES))))
# One completion script for every tool, installed under each tool's name.
COMPLETION = completions/e2e-chat.bash

# Dependencies on headers: the compiler writes, beside each object, the
# headers it read (-MMD), so a header's change rebuilds exactly what
# includes it; -MP keeps a removed header from stopping make. A program
# compiled and linked in one step writes them to $(BUILD)/dep/.
DEPFLAGS = -MMD -MP
LINKDEPS = $(DEPFLAGS) -MF $(BUILD)/dep/$(@F).d -MT $@

.PHONY: all check check-pg unit bats sanitize memcheck bench bench-server deps \
	install uninstall clean lint fuzz demo
.DEFAULT_GOAL := all

all: $(TOOL_BINS) $(MAN_PAGES)

# A line "%include FILE" of a page takes docs/man/include/FILE (the parts
# every client tool's page shares). Through a temporary file, so a failed
# scdoc leaves no half page.
$(BUILD)/man/%: docs/man/%.scd $(wildcard docs/man/include/*.scd)
	@mkdir -p $(@D)
	$(msg) SCDOC $<
	$(Q)awk '/^%include /{ f = "docs/man/include/" $$2; \
		while ((r = (getline l < f)) > 0) print l; \
		if (r < 0) { print f ": cannot read" > "/dev/stderr"; exit 1 } \
		close(f); next } { print }' $< > $@.in && \
		scdoc < $@.in > $@.tmp && mv $@.tmp $@ || \
		{ rm -f $@.tmp; exit 1; }; rm -f $@.in

# libe2e.a: base, format, keys.
$(BUILD)/lib/%.o: lib/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# libe2e-server.a, for e2e-server (and its unit tests) only.
$(BUILD)/lib/server/%.o: lib/server/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(SERVER_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(SERVER_LIB): $(SERVER_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# libe2e-net.a, for the network tools only.
$(BUILD)/lib/net/%.o: lib/net/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(NET_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(NET_LIB): $(NET_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The tools: each links one set of libraries.
$(CRYPTO_TOOLS:%=$(BIN)/%): $(BIN)/%: cmd/%/main.c $(LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(LINKDEPS) $(ALL_LDFLAGS) -o $@ $< $(LIB) \
		$(TOOL_LIBS)

$(NET_TOOLS:%=$(BIN)/%): $(BIN)/%: cmd/%/main.c $(NET_LIB) $(LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(NET_CFLAGS) $(LINKDEPS) $(ALL_LDFLAGS) -o $@ \
		$< $(NET_LIB) $(LIB) $(NET_LIBS) $(if $(filter %/e2e-keys,$@),\
		$(QR_LIBS)) $(TOOL_LIBS)

# e2e-chat: the network tools' set, and libedit.
$(BIN)/e2e-chat: cmd/e2e-chat/main.c $(NET_LIB) $(LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(NET_CFLAGS) $(EDIT_CFLAGS) $(LINKDEPS) \
		$(ALL_LDFLAGS) -o $@ $< $(NET_LIB) $(LIB) $(NET_LIBS) \
		$(EDIT_LIBS) $(TOOL_LIBS)

$(BIN)/e2e-server: cmd/e2e-server/main.c $(SERVER_LIB) $(LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) $(SERVER_CFLAGS) $(LINKDEPS) $(ALL_LDFLAGS) \
		-o $@ $< $(SERVER_LIB) $(LIB) $(SERVER_LIBS) $(TOOL_LIBS)

# The test builds: the same sources with the test hooks.
$(BUILD)/test/lib/%.o: lib/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC-TEST $<
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS $(DEPFLAGS) -c -o $@ $<

$(TEST_LIB): $(TEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/test/lib/server/%.o: lib/server/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC-TEST $<
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS $(SERVER_CFLAGS) $(DEPFLAGS) \
		-c -o $@ $<

$(TEST_SERVER_LIB): $(TEST_SERVER_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/test/lib/net/%.o: lib/net/%.c Makefile
	@mkdir -p $(@D)
	$(msg) CC-TEST $<
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS $(NET_CFLAGS) $(DEPFLAGS) \
		-c -o $@ $<

$(TEST_NET_LIB): $(TEST_NET_OBJS)
	@mkdir -p $(@D)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# test_srv_*.c test the server's modules and link its libraries.
$(BUILD)/tests/test_srv_%: tests/unit/test_srv_%.c $(TEST_SERVER_LIB) \
		$(TEST_LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS -Itests/unit $(SERVER_CFLAGS) \
		$(LINKDEPS) $(ALL_LDFLAGS) -o $@ $< $(TEST_SERVER_LIB) \
		$(TEST_LIB) $(SERVER_LIBS) $(PKG_LIBS)

# test_net_*.c test the client's modules and link libcurl.
$(BUILD)/tests/test_net_%: tests/unit/test_net_%.c $(NET_LIB) $(TEST_LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS -Itests/unit $(NET_CFLAGS) \
		$(LINKDEPS) $(ALL_LDFLAGS) -o $@ $< $(NET_LIB) $(TEST_LIB) \
		$(NET_LIBS) $(QR_LIBS) $(PKG_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TEST_LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS -Itests/unit $(LINKDEPS) \
		$(ALL_LDFLAGS) -o $@ $< $(TEST_LIB) $(QR_LIBS) $(PKG_LIBS)

# Two sources in one command write one dependency file, the last's: the
# target's source comes last, replay.c and fuzz.h are named here.
$(BUILD)/tests/fuzz_%-replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c \
		tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz \
		-DCORPUS='"tests/fuzz/corpus/$*"' $(LINKDEPS) $(ALL_LDFLAGS) \
		-o $@ tests/fuzz/replay.c $< $(LIB) $(QR_LIBS) $(PKG_LIBS)

$(BUILD)/tests/fuzz_net_%-replay: tests/fuzz/fuzz_net_%.c tests/fuzz/replay.c \
		tests/fuzz/fuzz.h $(TEST_NET_LIB) $(TEST_LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS -Itests/fuzz $(NET_CFLAGS) \
		-DCORPUS='"tests/fuzz/corpus/net_$*"' $(LINKDEPS) $(ALL_LDFLAGS) \
		-o $@ tests/fuzz/replay.c $< $(TEST_NET_LIB) $(TEST_LIB) \
		$(NET_LIBS) $(QR_LIBS) $(PKG_LIBS)

$(BUILD)/tests/fuzz_srv_%-replay: tests/fuzz/fuzz_srv_%.c tests/fuzz/replay.c \
		tests/fuzz/fuzz.h $(TEST_SERVER_LIB) $(TEST_LIB)
	@mkdir -p $(@D) $(BUILD)/dep
	$(msg) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -DE2E_TEST_HOOKS -Itests/fuzz $(SERVER_CFLAGS) \
		-DCORPUS='"tests/fuzz/corpus/srv_$*"' $(LINKDEPS) $(ALL_LDFLAGS) \
		-o $@ tests/fuzz/replay.c $< $(TEST_SERVER_LIB) $(TEST_LIB) \
		$(SERVER_LIBS) $(PKG_LIBS)

# NODEPS=1 reads none: tests/bats/packaging.bats runs make install
# during make check, while the unit tests' files are being written.
ifneq ($(NODEPS),1)
-include $(wildcard $(BUILD)/lib/*/*.d $(BUILD)/test/lib/*/*.d \
	$(BUILD)/dep/*.d)
endif

unit: $(UNIT_BINS) $(FUZZ_REPLAY_BINS)
	@tests/unit/run.sh $(UNIT_BINS) $(FUZZ_REPLAY_BINS)

# Bats files run BATS_JOBS at a time (GNU parallel; each file's tests in
# order): most tests wait on servers, sockets and timers, not on a core.
BATS_JOBS ?= 2

bats: $(TOOL_BINS) $(MAN_PAGES)
	@BATS_JOBS=$(BATS_JOBS) E2E_BIN=$(abspath $(BIN)) E2E_BUILD=$(BUILD) \
		E2E_MAN=$(abspath $(BUILD)/man) E2E_TOOLS="$(TOOLS)" \
		tests/bats/run.sh

# The server's suite again, against PostgreSQL (one throwaway cluster),
# after the rest: tests/bats/run-pg.sh.
check-pg: $(TOOL_BINS) $(BUILD)/tests/test_srv_store
	@BATS_JOBS=$(BATS_JOBS) E2E_BIN=$(abspath $(BIN)) \
		E2E_STORE_TEST=$(abspath $(BUILD)/tests/test_srv_store) \
		tests/bats/run-pg.sh

check: all unit bats
	@$(MAKE) --no-print-directory check-pg

# A separate tree, so sanitizer objects never mix with normal ones. On
# PostgreSQL it runs the store's own tests (the conformance suite and
# pg_store.bats), not the whole server suite again: CI's time. The bats
# files of SANITIZE_SKIP run no tool of the build (lint.sh, pg-cluster,
# memcheck.sh's own machinery on programs they compile, the benches'
# report scripts fed fixed numbers): make check runs them.
SANITIZE_SKIP = lint.bats pg_cluster.bats memcheck.bats bench_report.bats \
	bench_server_report.bats
sanitize:
	E2E_PG_SUITE=store BATS_SKIP="$(SANITIZE_SKIP)" \
		$(MAKE) BUILD=build/asan BIN=build/asan/bin \
		OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		check

# The bats flows of MEMCHECK_BATS with every tool under valgrind's memcheck
# (scripts/memcheck.sh): no error, no definite leak. Its own tree, built
# -O1 for stacks that say where. The set fits CI's time (about 6 minutes
# of CPU): the client's flow (a server, accounts, keys, encrypt, send,
# recv, decrypt) and the server's routes. encrypt.bats, decrypt.bats and
# decrypt_stream.bats push 64-300 MiB through the tools: too slow under
# valgrind. MEMCHECK_JOBS=2 runs the files two at a time (see
# scripts/memcheck.sh for why one is the default).
MEMCHECK_BATS ?= client_flow.bats server_routes.bats
MEMCHECK_JOBS ?= 1
memcheck:
	$(MAKE) BUILD=build/memcheck BIN=build/memcheck/bin OPT="-O1 -g" all
	@MEMCHECK_JOBS=$(MEMCHECK_JOBS) scripts/memcheck.sh \
		build/memcheck/bin build/memcheck/logs $(MEMCHECK_BATS)

# Coverage-guided fuzzing with libFuzzer (clang), FUZZ_SECONDS per target.
# New corpus entries land in build/fuzz/corpus-<target>/; copy the ones
# worth keeping into tests/fuzz/corpus/<target>/.
fuzz:
	$(MAKE) CC=clang BUILD=build/fuzz BIN=build/fuzz/bin OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
		build/fuzz/libe2e.a
	$(MAKE) CC=clang BUILD=build/fuzz BIN=build/fuzz/bin OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
		build/fuzz/test/libe2e-net-test.a build/fuzz/test/libe2e-test.a \
		build/fuzz/test/libe2e-server-test.a
	@set -e; for src in $(FUZZ_SRCS); do \
		t=$$(basename $$src .c); \
		case $$t in \
		fuzz_net_*) libs="-DE2E_TEST_HOOKS $(NET_CFLAGS) \
			build/fuzz/test/libe2e-net-test.a \
			build/fuzz/test/libe2e-test.a $(NET_LIBS)" ;; \
		fuzz_srv_*) libs="-DE2E_TEST_HOOKS $(SERVER_CFLAGS) \
			build/fuzz/test/libe2e-server-test.a \
			build/fuzz/test/libe2e-test.a $(SERVER_LIBS)" ;; \
		*) libs=build/fuzz/libe2e.a ;; \
		esac; \
		clang -std=c11 -D_GNU_SOURCE -O1 -g -Ilib -Itests/fuzz \
			-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
			-o build/fuzz/$$t $$src $$libs $(QR_LIBS) \
			$(PKG_LIBS); \
		mkdir -p build/fuzz/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			build/fuzz/corpus-$$t tests/fuzz/corpus/$${t#fuzz_}; \
	done

# The default (dynamic) tools, and a STATIC=1 build beside them.
bench: $(TOOL_BINS)
	$(MAKE) STATIC=1 BUILD=build/static BIN=build/static/bin \
		build/static/bin/e2e-encrypt build/static/bin/e2e-decrypt
	@E2E_BIN=$(abspath $(BIN)) E2E_BIN_STATIC=$(abspath build/static/bin) \
		LIBE2E=$(abspath $(LIB)) bench/run.sh

# The server next to nginx: durable sends, receive-and-ack, long-poll
# latency, 10,000 waiting receivers (bench/server.sh).
bench-server: $(TOOL_BINS)
	@E2E_BIN=$(abspath $(BIN)) bench/server.sh

# The main job in one command (README): a local server, two users,
# signed and encrypted messages both ways. CI runs it.
demo: deps
	@$(MAKE) --no-print-directory all
	@E2E_BIN=$(abspath $(BIN)) scripts/demo.sh

deps:
	@scripts/deps.sh

lint:
	@scripts/lint.sh

# The completion script goes in once, as e2e-chat; the other tools'
# names are symbolic links to it (bash-completion loads by name).
install: $(TOOL_BINS) $(MAN_PAGES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(MAN_SECTIONS:%=$(DESTDIR)$(MANDIR)/man%)
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	$(foreach s,$(MAN_SECTIONS),install -m 0644 \
		$(filter %.$(s),$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man$(s)/ &&) true
	install -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/e2e-chat
	for t in $(filter-out e2e-chat,$(TOOLS)); do \
		ln -sf e2e-chat $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; done

# Removes what install put there. In a staging tree (DESTDIR), also the
# folders left empty, up to DESTDIR; a system's own folders
# (/usr/local/share/man/man1) stay.
MAN_INSTALLED = $(foreach p,$(MAN_PAGES:$(BUILD)/man/%=%),\
	$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(p))
UNINSTALL_DIRS = $(BINDIR) $(BASHCOMPDIR) $(MAN_SECTIONS:%=$(MANDIR)/man%)
uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) \
		$(MAN_INSTALLED:%=$(DESTDIR)%) \
		$(DESTDIR)$(BASHCOMPDIR)/e2e-chat \
		$(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	@if [ -n "$(DESTDIR)" ]; then \
		for d in $(UNINSTALL_DIRS); do \
			d="$(DESTDIR)$$d"; \
			while [ "$$d" != "$(DESTDIR)" ] && \
			    [ "$${d#$(DESTDIR)/}" != "$$d" ] && \
			    rmdir "$$d" 2>/dev/null; do \
				d=$$(dirname "$$d"); \
			done; \
		done; \
	fi

clean:
	rm -rf build bin
