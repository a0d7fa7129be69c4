# daemon/install.mk — `make install` / `make uninstall` for lmdd (included by
# the top-level Makefile: `include daemon/install.mk`). FHS locations under
# PREFIX (default /usr/local), staged under DESTDIR for packaging:
#   $(PREFIX)/bin/lmdd                         the binary
#   $(UNITDIR)/lmdd.service                    systemd unit ($(PREFIX)/lib/systemd/system,
#                                              which systemd searches for /usr/local too)
#   $(SYSCONFDIR)/lmdd/lmdd.conf               example config (an existing one is kept;
#                                              the new one goes next to it as lmdd.conf.new)
#   $(PREFIX)/share/lmdd/models/ucsd-ped2/     default model + its .calib.json
#   $(PREFIX)/share/doc/lmdd/daemon.md         documentation
# Paths inside the unit and the config are rewritten from /usr/local to PREFIX.

PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(if $(filter /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc))
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DATADIR    ?= $(PREFIX)/share/lmdd
DOCDIR     ?= $(PREFIX)/share/doc/lmdd
INSTALL    ?= install
LMDD_MODEL ?= models/ucsd-ped2/model.safetensors

install: $(B)/lmdd
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/lmdd \
	  $(DESTDIR)$(DATADIR)/models/ucsd-ped2 $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(B)/lmdd $(DESTDIR)$(PREFIX)/bin/lmdd
	sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' -e 's|/usr/local/share/|$(PREFIX)/share/|g' \
	  -e 's|/etc/lmdd/|$(SYSCONFDIR)/lmdd/|g' systemd/lmdd.service > $(DESTDIR)$(UNITDIR)/lmdd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/lmdd.service
	sed -e 's|/usr/local/share/|$(PREFIX)/share/|g' config/lmdd.conf > $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf.new
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf.new
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf ]; then \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf; new example: lmdd.conf.new"; \
	else mv $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf.new $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf; fi
	@if [ -f $(LMDD_MODEL) ]; then \
	  $(INSTALL) -m 0644 $(LMDD_MODEL) $(DESTDIR)$(DATADIR)/models/ucsd-ped2/model.safetensors; \
	else echo "warning: $(LMDD_MODEL) missing (not trained yet?): no default model installed"; fi
	@if [ -f $(LMDD_MODEL).calib.json ]; then \
	  $(INSTALL) -m 0644 $(LMDD_MODEL).calib.json $(DESTDIR)$(DATADIR)/models/ucsd-ped2/model.safetensors.calib.json; \
	else echo "warning: $(LMDD_MODEL).calib.json missing: run lmdd calibrate, or set thresholds per stream"; fi
	$(INSTALL) -m 0644 docs/daemon.md $(DESTDIR)$(DOCDIR)/daemon.md
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now lmdd"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lmdd $(DESTDIR)$(UNITDIR)/lmdd.service \
	  $(DESTDIR)$(SYSCONFDIR)/lmdd/lmdd.conf.new $(DESTDIR)$(DOCDIR)/daemon.md \
	  $(DESTDIR)$(DATADIR)/models/ucsd-ped2/model.safetensors \
	  $(DESTDIR)$(DATADIR)/models/ucsd-ped2/model.safetensors.calib.json
	-rmdir -p $(DESTDIR)$(DATADIR)/models/ucsd-ped2 $(DESTDIR)$(DOCDIR) 2>/dev/null
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/lmdd (your configuration)"

.PHONY: install uninstall
