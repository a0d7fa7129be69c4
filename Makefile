# lmdd — top-level build. One binary, build/lmdd, with subcommands (daemon,
# score, info, devices, calibrate, subscribe, check-config, eval).
# Sources are picked up by wildcard: compute/*.c (engine), daemon/*.c
# (service + CLI), shaders/*.comp (GLSL, compiled by glslc and embedded).
# `make SAN=1` builds with AddressSanitizer + UBSan into build-san/.
#
# Dependencies are Debian packages (tools/install-deps.sh). `make demo` and
# `make test` install what is missing first and then build in a sub-make:
# the compiler and linker flags come from pkg-config, which this file reads
# when make starts, so they must be read again once the libraries are there.

PREFIX  ?= /usr/local
DESTDIR ?=
PY      ?= /usr/bin/python3
CC      ?= cc
PKGS    := libavformat libavcodec libavfilter libavutil libswscale libavdevice vulkan libzmq libsystemd inih libcjson

ifeq ($(SAN),1)
B       := build-san
SANFL   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
# drivers stay mapped for LeakSanitizer (tests/san_dlclose.c)
SANOBJ  := $(B)/tests/san_dlclose.o
else
B       := build
SANFL   :=
SANOBJ  :=
OPT     := -O2 -g
endif

CFLAGS  ?=
CFLAGS  += $(OPT) -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fopenmp -pthread -fno-math-errno \
           -march=x86-64-v2 -mtune=generic $(SANFL) -iquote compute/include -iquote compute -iquote media -iquote daemon -iquote cli -iquote eval -iquote $(B) \
           $(filter-out -I/usr/include/x86_64-linux-gnu,$(shell pkg-config --cflags $(PKGS) openblas 2>/dev/null))
# (FFmpeg's .pc files add -I/usr/include/x86_64-linux-gnu, which demotes libc's
#  own headers from system headers and hides cpu_set_t from OpenBLAS's cblas.h)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -lm
LDFLAGS += -fopenmp -pthread $(SANFL)

# Building needs the libraries: say so at once instead of failing at link.
ifneq ($(filter-out deps demo test test-san clean fresh-check fuzz uninstall,$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell pkg-config --exists $(PKGS) openblas 2>/dev/null && echo ok),)
$(error libraries missing (pkg-config $(PKGS) openblas): run `make deps` first, or `make demo` / `make test`, which install them)
endif
endif

COMPUTE_SRC := $(wildcard compute/*.c)
DAEMON_SRC  := $(wildcard media/*.c daemon/*.c cli/*.c eval/*.c)
SHADERS     := $(wildcard shaders/*.comp)
SPV_INC     := $(patsubst shaders/%.comp,$(B)/spv/%.inc,$(SHADERS))
COMPUTE_OBJ := $(patsubst %.c,$(B)/%.o,$(COMPUTE_SRC))
DAEMON_OBJ  := $(patsubst %.c,$(B)/%.o,$(DAEMON_SRC))
TEST_SRC    := $(wildcard tests/test_*.c)
TEST_BIN    := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
TOOL_BIN    := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/tool_*.c))

all: $(B)/lmdd

$(B)/spv/%.inc: shaders/%.comp $(wildcard shaders/*.glsl)
	@mkdir -p $(dir $@)
	glslc --target-env=vulkan1.1 -O -Ishaders -mfmt=c -o $@ $<

$(B)/shaders.h: $(SPV_INC)
	@mkdir -p $(B)
	@{ echo "/* generated from shaders/NAME.comp by glslc: SPIR-V words */"; \
	   for f in $(SPV_INC); do n=$$(basename $$f .inc); \
	     echo "static const uint32_t spv_$$n[] ="; cat $$f; echo ";"; done; } > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c $(B)/shaders.h $(wildcard compute/*.h compute/include/*.h media/*.h daemon/*.h cli/*.h eval/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libcompute.a: $(COMPUTE_OBJ)
	ar rcs $@ $^

$(B)/lmdd: $(DAEMON_OBJ) $(B)/libcompute.a $(SANOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/%.c $(B)/libcompute.a $(filter-out $(B)/cli/lmdd.o,$(DAEMON_OBJ)) tests/check.h $(SANOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(filter-out $(B)/cli/lmdd.o,$(DAEMON_OBJ)) $(B)/libcompute.a $(SANOBJ) $(LDFLAGS) $(LDLIBS)

tests: $(TEST_BIN) $(TOOL_BIN) $(B)/lmdd

# The README's test command: installs what is missing, builds, runs every
# test. tests/run.sh prints "N passed, N failed, N skipped".
test: deps
	$(MAKE) tests
	B=$(B) PY=$(PY) tests/run.sh

# The one-off studies' own tests (research/): not part of `make test`.
research-test: deps
	$(MAKE) tests
	B=$(B) PY=$(PY) tests/run.sh research

# The same suite under AddressSanitizer + UBSan.
test-san:
	$(MAKE) SAN=1 test

deps:
	tools/install-deps.sh

bench: tests
	B=$(B) $(PY) tools/bench.py

# The README's first command: installs what is missing, builds, runs the demo.
demo: deps
	$(MAKE) all
	tools/demo.sh

# Both README commands on a pristine Debian 12 (debootstrap, minbase + make,
# git, ca-certificates, no ../shared), each first in a root of its own:
# tools/fresh_check.sh. Downloads hundreds of packages; not part of CI.
fresh-check:
	tools/fresh_check.sh

clean:
	rm -rf build build-san build-fuzz

include daemon/install.mk

.PHONY: all tests test research-test test-san deps bench demo fresh-check clean

# libFuzzer on the model loader (clang), FUZZ_SECONDS of fuzzing from a seed corpus.
FUZZ_SECONDS ?= 60
fuzz:
	@mkdir -p build-fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icompute -Icompute/include $(shell pkg-config --cflags libcjson) \
	  -o build-fuzz/fuzz_model tests/fuzz_model.c compute/model.c compute/err.c $(shell pkg-config --libs libcjson) -lm
	$(PY) tests/make_model.py build-fuzz/corpus/a.safetensors --base 8 --mult 1,2 --attn 1 --groups 4
	$(PY) tests/make_model.py build-fuzz/corpus/b.safetensors --base 8 --mult 1 --attn "" --groups 2 --fp16
	build-fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus

.PHONY: fuzz

# ---- detection-quality evaluation (daemon/cmd_eval.c, docs/evaluation.md) ----
# zlib: idx (MNIST-style) files for `lmdd eval`
LDLIBS += -lz
EVAL_ARGS ?=
# full evaluation of models/*: every image/frame, sweep, plots -> docs/results
eval: all
	$(B)/lmdd eval --suite all --sweep --out docs/results $(EVAL_ARGS)
# a small deterministic subset of every suite: 20 images per side, 2 frames per
# Ped2 clip (~8 CPU-minutes; seconds on a GPU); fails if a model is missing
eval-smoke: all
	@rc=0; \
	$(B)/lmdd eval --suite fmnist-mnist,mnist-fmnist --limit 20 --bootstrap 200 --out $(B)/eval-smoke $(EVAL_ARGS) || rc=$$?; \
	$(B)/lmdd eval --suite ped2 --limit 2 --bootstrap 200 --out $(B)/eval-smoke $(EVAL_ARGS) || rc=$$?; \
	exit $$rc

.PHONY: eval eval-smoke
