# mdevctl for Deno. `make` builds dist/, `make test` runs every test,
# `make check` runs the formatter, linter, type checker, the public API's doc lint, the
# import-layer and size checks (docs/architecture.md), and checks the units and docs/sandbox.md
# against the sandbox's declaration.
SHELL := /bin/bash
PREFIX ?= /usr
DENO := $(shell tools/deno_path.sh 2>/dev/null)
SOURCES := cli.ts mod.ts $(shell find lib -name '*.ts' ! -name '*_test.ts' 2>/dev/null)

.PHONY: all build docs check test test-all test-compat test-kernel test-e2e test-package bench \
	bench-sandbox demo install uninstall deb clean

# The man pages and shell completions, generated from the command table and,
# for mdevctl-hostfile(5), from docs/hostfile.md.
GEN := dist/mdevctl.8 dist/mdevctl-hostfile.5 dist/mdevctl.bash dist/_mdevctl

all: dist/mdevctl $(GEN)

$(GEN) &: lib/cli/command_table.ts lib/version.ts tools/gen_man.ts tools/gen_completions.ts \
	tools/gen_doc_man.ts docs/hostfile.md
	@bash tools/install.sh generate dist

docs: $(GEN)

dist/mdevctl: $(SOURCES) tools/build.sh tools/launcher.sh tools/gen_sandbox.ts tools/sandbox_paths.ts tools/warm_code_cache.sh deno.json
	@tools/build.sh dist

build: dist/mdevctl

check:
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check cli.ts mod.ts $$(find lib tests tools bench -name '*.ts' 2>/dev/null)
	$(DENO) doc --lint mod.ts
	$(DENO) run --allow-read --allow-write --allow-run tools/check_layers.ts
	$(DENO) run --quiet --no-lock --allow-read tools/gen_sandbox.ts check
	$(DENO) run --allow-read tools/check_sizes.ts

# Unit tests beside their modules, then black-box tests of the source entry
# (permissions scoped to each test's root) and of the built program.
test: dist/mdevctl
	@tools/run_tests.sh

# Everything CI runs: make test, the Debian comparison, the real kernel and
# the end-to-end suite.
test-all: dist/mdevctl
	@tools/run_all_tests.sh

demo: dist/mdevctl
	@tools/demo.sh

test-compat: dist/mdevctl
	bash tests/compat/run.sh

test-kernel: dist/mdevctl
	bash tests/kernel/run.sh

# systemd as PID 1, udev and libvirt driving the installed program (QEMU guest).
test-e2e: dist/mdevctl
	bash tests/e2e/run.sh

# The Debian package, its lintian run, its maintainer scripts in a chroot and
# replacing Debian's mdevctl in a systemd guest (tests/package/run.sh).
test-package:
	bash tests/package/run.sh

# Ours against Debian's mdevctl (bench/README.md; root).
bench: dist/mdevctl
	$(DENO) run -A bench/run.ts

# What the permission sandbox costs (docs/sandbox.md).
bench-sandbox: dist/mdevctl
	bash bench/sandbox.sh

install: dist/mdevctl
	bash tools/install.sh install

uninstall:
	bash tools/install.sh uninstall

# dist/mdevctl-deno_<version>-<revision>_amd64.deb (packaging/debian/README.md);
# DEB_REVISION, DENORT_BIN and DEB_COMPRESSION are read from the environment.
deb:
	@bash packaging/debian/build.sh dist

# dist/sysfs and dist/dev may hold the launcher's binds of /sys and /dev
# (docs/sandbox.md): undo them first, and never let rm cross into another
# file system.
clean:
	@while umount dist/sysfs 2>/dev/null; do :; done
	@while umount dist/dev 2>/dev/null; do :; done
	rm -rf --one-file-system dist
