# Top-level build: deps, build, run, test, bench. Every lib/service/test is discovered by
# wildcard, so adding a file needs no edit here.
BUILD     ?= build
CC        ?= cc
PKGS      := libxml-2.0 libzmq hiredis jansson openssl libcurl libwbxml2
CIVETWEB  := third_party/civetweb-1.15
DEPS_OK   := $(BUILD)/.deps-ok

CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -D_GNU_SOURCE -pthread
CFLAGS    += $(foreach d,$(wildcard libs/*),-I$(d)) -I$(CIVETWEB)/include
LDFLAGS   += -pthread
ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS   += -fsanitize=address,undefined
BUILD     := build-san
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypto -lssl

LIB_SRCS  := $(wildcard libs/*/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBMDM    := $(BUILD)/libmdm.a
SERVICES  := gateway discovery pki syncml registry
TOOLS     := $(notdir $(wildcard tools/*))
BINS      := $(SERVICES:%=$(BUILD)/bin/mdm-%) $(TOOLS:%=$(BUILD)/bin/mdm-%)
# service code minus main.c goes into an archive so unit tests can link handlers
SVC_ARS   := $(SERVICES:%=$(BUILD)/svc-%.a)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
CW_OBJ    := $(BUILD)/obj/civetweb.o

.SECONDARY:
.PHONY: all deps build run test unit e2e bench clean distclean fmt
.DEFAULT_GOAL := all

all: build

# Installs missing Debian packages (apt-get, as root or via sudo). Stamp-guarded.
deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	./scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

$(CIVETWEB)/src/civetweb.c: | $(DEPS_OK)
	./scripts/fetch-civetweb.sh third_party

build: $(DEPS_OK) $(BINS) $(UNIT_BINS) $(BUILD)/bin/mdmctl

# the admin CLI is tools/ctl (mdm-ctl); users know it as mdmctl
$(BUILD)/bin/mdmctl: $(BUILD)/bin/mdm-ctl
	ln -sf mdm-ctl $@

$(BUILD)/obj/%.o: %.c | $(DEPS_OK) $(CIVETWEB)/src/civetweb.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# civetweb: OpenSSL 3 API, linked (not dlopen'ed), no CGI, statically into the gateway.
$(CW_OBJ): $(CIVETWEB)/src/civetweb.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -pthread -D_GNU_SOURCE -DOPENSSL_API_3_0 -DNO_SSL_DL -DNO_CGI -DUSE_IPV6 \
		-I$(CIVETWEB)/include \
		$(filter -fsanitize%,$(CFLAGS)) -w -c $< -o $@

$(LIBMDM): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

define service_rules
$(1)_SRCS := $$(wildcard services/$(1)/*.c)
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/obj/%.o)
$(BUILD)/svc-$(1).a: $$(filter-out %/main.o,$$($(1)_OBJS))
	@rm -f $$@
	ar rcs $$@ $$^
$(BUILD)/bin/mdm-$(1): $(BUILD)/obj/services/$(1)/main.o $(BUILD)/svc-$(1).a $(LIBMDM) $(if $(filter gateway,$(1)),$(CW_OBJ))
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) -ldl
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

define tool_rules
$(1)_TSRCS := $$(wildcard tools/$(1)/*.c)
$(BUILD)/bin/mdm-$(1): $$($(1)_TSRCS:%.c=$(BUILD)/obj/%.o) $(LIBMDM)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rules,$(t))))

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(SVC_ARS) $(LIBMDM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(SVC_ARS) $(LIBMDM) -Wl,--end-group $(PKG_LIBS) -lcmocka -ldl

# The dashboard's browser test: playwright-core from the committed lock file (npm ci only
# re-runs when the lock file changes; it writes node_modules/.package-lock.json itself).
BROWSER_DEPS := tests/browser/node_modules/.package-lock.json
$(BROWSER_DEPS): tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

# Runs the server in the foreground: dev CA and certs under $(MDM_DATA_DIR), private Redis.
run: build
	./scripts/run.sh

unit: build
	./tests/run-unit.sh $(BUILD)

e2e: build $(BROWSER_DEPS)
	./tests/e2e/run.sh $(BUILD)

test: build $(BROWSER_DEPS)
	./tests/run-unit.sh $(BUILD)
	./tests/e2e/run.sh $(BUILD)

# bare civetweb HTTPS server: the physical limit the management throughput is compared to
BENCH_BIN := $(BUILD)/bench/https-baseline
$(BENCH_BIN): bench/https_baseline.c $(CW_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CW_OBJ) -lssl -lcrypto -ldl

bench: build $(BENCH_BIN)
	./bench/run.sh $(BUILD)

clean:
	rm -rf build build-san tests/out

distclean: clean
	rm -rf third_party var

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
