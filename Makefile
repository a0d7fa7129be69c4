# lmdd — top-level build.
#   build/lmdd       the service and its commands: cli/ + daemon/ + media/ +
#                    compute/ (+ shaders/, compiled by glslc and embedded)
#   build/lmdd-eval  the evaluation harness, eval/ (`make eval-bin`, part of
#                    `make tests`); never linked into build/lmdd, not installed
# Each folder is compiled with the include paths of what it may use, so a
# layering leak is a compile error (each folder's README says the same):
#   compute/  its own headers; others see only compute/include/lmd.h
#   media/    its own (FFmpeg ingest needs nothing of the engine)
#   daemon/   + media/, lmd.h        cli/   + daemon/, media/, lmd.h
#   eval/     + cli/, daemon/, media/, lmd.h       tests/  everything
# (-Werror=implicit-function-declaration: a quote include that falls through
# to a system header of the same name, such as <err.h>, cannot hide a leak)
# Header dependencies come from the compiler (-MMD -MP, build/**/*.d).
# `make SAN=1` builds with AddressSanitizer + UBSan into build-san/,
# `make TSAN=1` with ThreadSanitizer into build-tsan/.
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
else ifeq ($(TSAN),1)
B       := build-tsan
SANFL   := -fsanitize=thread -fno-omit-frame-pointer
OPT     := -O1 -g
SANOBJ  :=
else
B       := build
SANFL   :=
SANOBJ  :=
OPT     := -O2 -g
endif

# x86-64: the SSE4.2/POPCNT baseline (x86-64-v2); the AVX2 and AVX-512
# kernels are picked at run time (compute/: target attributes + cpuid).
# Other machines get the compiler's default. `make MARCH=...` to override.
MARCH   ?= $(if $(filter x86_64-%,$(shell $(CC) -dumpmachine)),-march=x86-64-v2 -mtune=generic)

CFLAGS  ?=
CFLAGS  += $(OPT) -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
           -fopenmp -pthread -fno-math-errno \
           $(MARCH) $(SANFL) -MMD -MP \
           $(filter-out -I/usr/include/x86_64-linux-gnu,$(shell pkg-config --cflags $(PKGS) openblas 2>/dev/null))
# (FFmpeg's .pc files add -I/usr/include/x86_64-linux-gnu, which demotes libc's
#  own headers from system headers and hides cpu_set_t from OpenBLAS's cblas.h)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -lz -lm
LDFLAGS += -fopenmp -pthread $(SANFL)

# what each folder may include (see the top of this file)
INC_compute := -iquote compute -iquote compute/include -iquote $(B)
INC_media   := -iquote media
INC_daemon  := -iquote daemon -iquote media -iquote compute/include
INC_cli     := -iquote cli -iquote daemon -iquote media -iquote compute/include
INC_eval    := -iquote eval -iquote cli -iquote daemon -iquote media -iquote compute/include
INC_tests   := -iquote tests $(foreach d,compute compute/include media daemon cli eval $(B),-iquote $(d))

# Building needs the libraries: say so at once instead of failing at link.
ifneq ($(filter-out deps demo test test-san test-tsan research-test clean fresh-check fuzz uninstall bench-ort,$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell pkg-config --exists $(PKGS) openblas 2>/dev/null && echo ok),)
$(error libraries missing (pkg-config $(PKGS) openblas): run `make deps` first, or `make demo` / `make test`, which install them)
endif
endif

objs = $(patsubst %.c,$(B)/%.o,$(filter-out $(2),$(wildcard $(1)/*.c)))
COMPUTE_OBJ := $(call objs,compute)
MEDIA_OBJ   := $(call objs,media)
DAEMON_OBJ  := $(call objs,daemon)
CLI_OBJ     := $(call objs,cli,cli/lmdd.c)
EVAL_OBJ    := $(call objs,eval,eval/eval.c)
# static libraries, in link order (each may use the ones after it)
LIBS        := $(foreach l,eval cli daemon media compute,$(B)/lib$(l).a)
SERVICE_LIBS := $(filter-out $(B)/libeval.a,$(LIBS))
SHADERS     := $(wildcard shaders/*.comp)
SPV_INC     := $(patsubst shaders/%.comp,$(B)/spv/%.inc,$(SHADERS))
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

# $* is FOLDER/NAME: the folder picks the include paths
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_$(firstword $(subst /, ,$*))) -c -o $@ $<

$(COMPUTE_OBJ): | $(B)/shaders.h
ifeq ($(TSAN),1)
# The engine is not instrumented for ThreadSanitizer: its target_clones
# resolvers (ifuncs) run before the TSan runtime is up and crash, and it is
# called from one thread (OMP_NUM_THREADS=1 under test-tsan).
$(COMPUTE_OBJ): SANFL :=
endif

$(B)/libcompute.a: $(COMPUTE_OBJ)
$(B)/libmedia.a: $(MEDIA_OBJ)
$(B)/libdaemon.a: $(DAEMON_OBJ)
$(B)/libcli.a: $(CLI_OBJ)
$(B)/libeval.a: $(EVAL_OBJ)
$(LIBS):
	rm -f $@
	ar rcs $@ $^

$(B)/lmdd: $(B)/cli/lmdd.o $(SERVICE_LIBS) $(SANOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/lmdd-eval: $(B)/eval/eval.o $(LIBS) $(SANOBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

eval-bin: $(B)/lmdd-eval

$(B)/tests/%: tests/%.c $(LIBS) $(SANOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_tests) -o $@ $< $(LIBS) $(SANOBJ) $(LDFLAGS) $(LDLIBS)

-include $(wildcard $(B)/*/*.d $(B)/tests/*.d)

tests: $(TEST_BIN) $(TOOL_BIN) $(B)/lmdd $(B)/lmdd-eval

# The README's test command: installs what is missing, builds, runs the
# unit and integration tests (what CI runs). tests/run.sh prints
# "N passed, N failed, N skipped".
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

# The threaded code under ThreadSanitizer: the C tests with threads and the
# daemon's integration tests (stream, scheduler, publisher, ZAP, log, reload,
# stop), any race a failure. The engine runs on one thread (uninstrumented,
# see above); tests/tsan.supp names the uninstrumented libraries.
TSAN_TESTS := $(foreach t,log media feed daemon_notify publish,build-tsan/tests/test_$(t)) \
              $(foreach t,e2e lifecycle stop reload_model cond curve rtsp timestamps,tests/test_daemon_$(t).py)
test-tsan: deps
	$(MAKE) TSAN=1 tests
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp" \
	  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 B=build-tsan PY=$(PY) tests/run.sh $(TSAN_TESTS)

deps:
	tools/install-deps.sh

bench: tests
	B=$(B) $(PY) tools/bench.py

# The ONNX Runtime peer of `make bench` (npm's onnxruntime-node, which ships
# its runtime library) into build/ort, outside git; not part of CI. The
# variable skips its install script, which fetches extras from elsewhere.
bench-ort:
	mkdir -p build/ort
	ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix build/ort --no-save onnxruntime-node

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
	rm -rf build build-san build-tsan build-fuzz

include daemon/install.mk

.PHONY: all tests eval-bin test research-test test-san test-tsan deps bench bench-ort demo fresh-check clean

# libFuzzer (clang), FUZZ_SECONDS of fuzzing each from seed corpora, on the
# three parsers of untrusted files: the model loader, the config, the CURVE
# key files (secret key and allow-list).
FUZZ_SECONDS ?= 60
FUZZ_CC := clang -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_LIBS = $(LDLIBS) -lgomp
ZKEY_PUB := rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
ZKEY_SEC := JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
fuzz: $(B)/libcompute.a
	@mkdir -p build-fuzz/corpus build-fuzz/corpus-config build-fuzz/corpus-keys
	$(FUZZ_CC) $(INC_compute) $(shell pkg-config --cflags libcjson) \
	  -o build-fuzz/fuzz_model tests/fuzz_model.c compute/model.c compute/err.c $(shell pkg-config --libs libcjson) -lm
	$(FUZZ_CC) $(INC_daemon) $(filter-out -I/usr/include/x86_64-linux-gnu,$(shell pkg-config --cflags $(PKGS))) \
	  -o build-fuzz/fuzz_config tests/fuzz_config.c daemon/config.c daemon/calib.c daemon/log.c $(B)/libcompute.a $(FUZZ_LIBS)
	$(FUZZ_CC) $(INC_daemon) -o build-fuzz/fuzz_keys tests/fuzz_keys.c daemon/curve.c daemon/log.c daemon/worker.c $(FUZZ_LIBS)
	$(PY) tests/make_model.py build-fuzz/corpus/a.safetensors --base 8 --mult 1,2 --attn 1 --groups 4
	$(PY) tests/make_model.py build-fuzz/corpus/b.safetensors --base 8 --mult 1 --attn "" --groups 2 --fp16
	cp config/lmdd.conf build-fuzz/corpus-config/example.conf
	printf '[daemon]\nmodel = m\nsteps = 3\npool = max:9\npublish = tcp://127.0.0.1:1, ipc:///tmp/x\ncurve = on\n\n[stream a]\nurl = rtsp://u:p@h/x\nroi = 1,2,3,4\nrealtime = auto\n' >build-fuzz/corpus-config/keys.conf
	printf 'public-key = "%s"\nsecret-key = "%s"\n' '$(ZKEY_PUB)' '$(ZKEY_SEC)' >build-fuzz/corpus-keys/secret
	printf '# ops\n%s  console\npublic-key = "%s"\n' '$(ZKEY_PUB)' '$(ZKEY_PUB)' >build-fuzz/corpus-keys/allowed
	build-fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus
	build-fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build-fuzz/corpus-config
	build-fuzz/fuzz_keys -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build-fuzz/corpus-keys

.PHONY: fuzz

# ---- detection-quality evaluation (eval/, docs/evaluation.md) ----
EVAL_ARGS ?=
# full evaluation of models/*: every image/frame, sweep, plots -> docs/results
eval: eval-bin
	$(B)/lmdd-eval --suite all --sweep --out docs/results $(EVAL_ARGS)
# a small deterministic subset of every suite: 20 images per side, 2 frames per
# Ped2 clip (~8 CPU-minutes; seconds on a GPU); fails if a model is missing
eval-smoke: eval-bin
	@rc=0; \
	$(B)/lmdd-eval --suite fmnist-mnist,mnist-fmnist --limit 20 --bootstrap 200 --out $(B)/eval-smoke $(EVAL_ARGS) || rc=$$?; \
	$(B)/lmdd-eval --suite ped2 --limit 2 --bootstrap 200 --out $(B)/eval-smoke $(EVAL_ARGS) || rc=$$?; \
	exit $$rc

.PHONY: eval eval-smoke
