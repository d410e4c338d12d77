# Conveniences around cargo. The two commands that matter are `scripts/demo.sh` (make demo) and
# `scripts/test.sh` (make test); `make install PREFIX=...` installs the C library.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))

.PHONY: all demo test fuzz mutants install uninstall header bench nupkg dist cross clean

all:
	cargo build --release

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The fuzz targets of fuzz/ (needs the nightly toolchain), FUZZ_SECONDS each rather than the test
# command's few seconds; what they find is kept in fuzz/corpus/ for the next run.
FUZZ_SECONDS ?= 120
fuzz:
	ICDAPI_FUZZ_CORPUS=keep bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Mutation testing (not part of the test command; about an hour and a half on 2 cores): every mutant of
# src/ against the Rust suite (settings and the justified exclusions in .cargo/mutants.toml), then
# the score. MUTANTS_ARGS adds cargo-mutants arguments, e.g. MUTANTS_ARGS="--file src/http/url.rs"
# or "--iterate" (only what a previous run did not catch).
MUTANTS_ARGS ?=
mutants:
	command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants
	command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
	cargo mutants --jobs 2 --output target $(MUTANTS_ARGS) || true
	# cargo-mutants' previously_caught.txt lists earlier runs' unviable mutants with their caught
	# ones: keep every run's unviable list, so that the score does not count them as caught.
	cat target/mutants.out/unviable.txt >> target/mutants-unviable.txt
	python3 scripts/mutants_score.py target/mutants.out

# Shared library with a versioned soname (libicdapi.so.MAJOR), static library, header, pkg-config.
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 0755 target/release/libicdapi.so $(DESTDIR)$(LIBDIR)/libicdapi.so.$(VERSION)
	# cargo builds have no soname (programs linked in the build tree find libicdapi.so itself);
	# the installed copy gets libicdapi.so.MAJOR, so that compatible upgrades replace it in place.
	patchelf --set-soname libicdapi.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libicdapi.so.$(VERSION)
	ln -sf libicdapi.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libicdapi.so.$(MAJOR)
	ln -sf libicdapi.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libicdapi.so
	install -m 0644 target/release/libicdapi.a $(DESTDIR)$(LIBDIR)/libicdapi.a
	install -m 0644 include/icdapi.h $(DESTDIR)$(INCLUDEDIR)/icdapi.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' icdapi.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/icdapi.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libicdapi.so $(DESTDIR)$(LIBDIR)/libicdapi.so.$(MAJOR) \
	    $(DESTDIR)$(LIBDIR)/libicdapi.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libicdapi.a \
	    $(DESTDIR)$(INCLUDEDIR)/icdapi.h $(DESTDIR)$(LIBDIR)/pkgconfig/icdapi.pc

# The benchmark (not part of the tests): icdapi vs libcurl vs requests against nginx on loopback.
bench:
	bash bench/run.sh

# The NuGet package of the C# binding: target/nuget/IcdApi.$(VERSION).nupkg (binding + libicdapi.so for linux-x64).
nupkg:
	bash bindings/csharp/nuget/pack.sh

# Every platform's library (linux-x64 and linux-arm64 for glibc 2.17+, linux-musl-x64, win-x64),
# each built once in target/<triple>/release/ (scripts/cross.sh; RIDS="win-x64" for fewer).
RIDS ?=
cross:
	bash scripts/cross.sh $(RIDS)

# What users download, under target/dist/: per-platform C archives, one NuGet package, one wheel per
# platform, the Composer zip, SHA256SUMS (scripts/dist.sh; docs/platforms.md).
dist:
	bash scripts/dist.sh $(RIDS)

# Rewrites include/icdapi.h from the Rust source (the exported functions of src/ffi/) with the pinned cbindgen.
header:
	ICDAPI_UPDATE_HEADER=1 cargo test --quiet --test header

clean:
	cargo clean
