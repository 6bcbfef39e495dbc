# tests/kernel/scenarios.sh - the scenarios (sourced by suite.sh in the guest).
#
# Each scenario is a function sc_<name>; SCENARIOS lists them in run order.
# Before each one the guest is reset: no mdev devices, no configs, full pool
# (mtty: 24 ports shared by mtty-1 = 1 port, mtty-2 = 2 ports).
# A scenario may set SC_NOCOMPARE=reason when Debian's 1.2.0 is not expected
# to behave like ours there, and SC_SKIP=reason to skip an implementation.

SCENARIOS=(
    types-text
    types-json
    transient-start-stop
    defined-lifecycle
    start-already-running
    start-parent-mdevs
    pool-exhaustion
    unsupported-type
    unknown-parent
    stop-not-running
    define-from-running
    undefine-running
    attr-rollback
    lsmdev
    legacy-2019
    legacy-list-all
    parent-unload-reload
)

# --- types -----------------------------------------------------------------

sc_types-text() {
    mc types
    expect_rc 0
    expect_out "$(sysfs_types_text)"
    mc types -p mtty
    expect_rc 0
    expect_out "$(sysfs_types_text)"
    mc types -p nosuchparent
    expect_rc 0
    expect_out_empty
    # The numbers follow the kernel: one mtty-2 takes 2 of the 24 ports.
    k_create mtty-2 "$U1"
    expect_avail 22 11
    mc types
    expect_rc 0
    expect_out "$(sysfs_types_text)"
    check "types shows the kernel's 22/11" out_has 'Available instances: 22'
}

sc_types-json() {
    mc types --dumpjson
    expect_rc 0
    expect_out "$(sysfs_types_json)"
    k_create mtty-1 "$U1"
    k_create mtty-1 "$U2"
    expect_avail 22 11
    mc types --dumpjson -p mtty
    expect_rc 0
    expect_out "$(sysfs_types_json)"
}

# --- start / stop ----------------------------------------------------------

sc_transient-start-stop() {
    mc start -p mtty -t mtty-1
    expect_rc 0
    expect_out_uuid
    local u=$NEWU
    [ -n "$u" ] || return 0
    expect_active "$u" mtty-1
    expect_count 1
    expect_avail 23 11
    expect_no_configs
    mc list
    expect_rc 0
    expect_out "$u mtty mtty-1 manual"
    mc list --dumpjson
    expect_rc 0
    expect_out "$(printf '[\n  {\n    "mtty": [\n      {\n        "%s": {\n          "mdev_type": "mtty-1",\n          "start": "manual",\n          "attrs": []\n        }\n      }\n    ]\n  }\n]' "$u")"
    mc stop -u "$u"
    expect_rc 0
    expect_out_empty
    expect_inactive "$u"
    expect_count 0
    expect_avail 24 12
    mc list
    expect_rc 0
    expect_out_empty
}

sc_defined-lifecycle() {
    mc define -u "$U1" -p mtty -t mtty-2
    expect_rc 0
    expect_out_empty
    expect_conf "$U1"
    expect_inactive "$U1"
    expect_avail 24 12
    mc list -d
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual"
    mc start -u "$U1"
    expect_rc 0
    expect_out_empty
    expect_active "$U1" mtty-2
    expect_avail 22 11
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual (defined)"
    mc list -d
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual (active)"
    mc list -d --dumpjson -u "$U1"
    expect_rc 0
    expect_out "$(printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}')"
    mc stop -u "$U1"
    expect_rc 0
    expect_inactive "$U1"
    expect_avail 24 12
    mc list -d
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual"
    mc undefine -u "$U1"
    expect_rc 0
    expect_out_empty
    expect_no_conf "$U1"
    mc list -d
    expect_rc 0
    expect_out_empty
    expect_count 0
}

sc_start-already-running() {
    mc start -u "$U1" -p mtty -t mtty-1
    expect_rc 0
    expect_out_empty
    expect_active "$U1" mtty-1
    mc start -u "$U1" -p mtty -t mtty-1
    expect_rc 1
    expect_out_empty
    expect_err_has "Device already exists"
    expect_active "$U1" mtty-1
    expect_count 1
    expect_avail 23 11
    mc start -u "$U1" -p mtty -t mtty-2
    expect_rc 1
    expect_err_has "Device exists with different type"
    expect_active "$U1" mtty-1
    expect_count 1
    expect_avail 23 11
    # a defined device started twice
    mc define -u "$U2" -p mtty -t mtty-2
    expect_rc 0
    mc start -u "$U2"
    expect_rc 0
    mc start -u "$U2"
    expect_rc 1
    expect_err_has "Device already exists"
    expect_active "$U2" mtty-2
    expect_count 2
    expect_avail 21 10
}

sc_start-parent-mdevs() {
    mc define -u "$U1" -p mtty -t mtty-1 --auto
    expect_rc 0
    mc define -u "$U2" -p mtty -t mtty-2 --auto
    expect_rc 0
    mc define -u "$U3" -p mtty -t mtty-1
    expect_rc 0
    mc define -u "$U4" -p otherparent -t mtty-1 --auto
    expect_rc 0
    expect_count 0
    mc list -d
    expect_rc 0
    expect_out "$(printf '%s\n' "$U1 mtty mtty-1 auto" "$U2 mtty mtty-2 auto" \
                  "$U3 mtty mtty-1 manual" "$U4 otherparent mtty-1 auto")"
    mc start-parent-mdevs mtty
    expect_rc 0
    expect_out_empty
    expect_active "$U1" mtty-1
    expect_active "$U2" mtty-2
    expect_inactive "$U3"
    expect_inactive "$U4"
    expect_count 2
    expect_avail 21 10
    mc list
    expect_rc 0
    expect_out "$(printf '%s\n' "$U1 mtty mtty-1 auto (defined)" "$U2 mtty mtty-2 auto (defined)")"
    # A second run (udev sends two events) must not create or break anything.
    mc start-parent-mdevs mtty
    expect_rc 0
    expect_count 2
    expect_avail 21 10
}

sc_pool-exhaustion() {
    local i us=()
    for i in {1..12}; do
        mc start -p mtty -t mtty-2
        expect_rc 0
        expect_out_uuid
        us+=("$NEWU")
    done
    expect_count 12
    expect_avail 0 0
    for i in "${us[@]}"; do [ -n "$i" ] && expect_active "$i" mtty-2; done
    mc start -p mtty -t mtty-2
    expect_rc 1
    expect_out_empty
    expect_err_starts "Error: No available instances of mtty-2 on mtty"
    expect_count 12
    expect_avail 0 0
    mc start -u "$U1" -p mtty -t mtty-1
    expect_rc 1
    expect_err_starts "Error: No available instances of mtty-1 on mtty"
    expect_inactive "$U1"
    expect_count 12
    # Freeing one mtty-2 frees 2 ports: 2 x mtty-1 fit, then mtty-2 fails again.
    mc stop -u "${us[0]}"
    expect_rc 0
    expect_count 11
    expect_avail 2 1
    mc start -u "$U1" -p mtty -t mtty-1
    expect_rc 0
    expect_avail 1 0
    mc start -u "$U2" -p mtty -t mtty-2
    expect_rc 1
    expect_err_starts "Error: No available instances of mtty-2 on mtty"
    expect_inactive "$U2"
    mc start -u "$U3" -p mtty -t mtty-1
    expect_rc 0
    expect_avail 0 0
    expect_count 13
    mc types
    expect_rc 0
    expect_out "$(sysfs_types_text)"
}

sc_unsupported-type() {
    mc start -p mtty -t mtty-9
    expect_rc 1
    expect_out_empty
    expect_err_starts "Error: Parent mtty does not support mdev type mtty-9"
    mc start -u "$U1" -p mtty -t mtty-9
    expect_rc 1
    expect_err_starts "Error: Parent mtty does not support mdev type mtty-9"
    # a defined device of an unsupported type fails the same way
    mc define -u "$U2" -p mtty -t mtty-9
    expect_rc 0
    mc start -u "$U2"
    expect_rc 1
    expect_err_starts "Error: Parent mtty does not support mdev type mtty-9"
    expect_count 0
    expect_avail 24 12
}

sc_unknown-parent() {
    mc start -p nosuchparent -t mtty-1
    expect_rc 1
    expect_out_empty
    expect_err_starts "Error: Unable to find parent device 'nosuchparent'"
    mc start -p MTTY -t mtty-1
    expect_rc 1
    expect_err_starts "Error: Unable to find parent device 'MTTY'"
    ours_err_has "Did you mean 'mtty'?"
    expect_count 0
    expect_avail 24 12
}

sc_stop-not-running() {
    mc stop -u "$U1"
    expect_rc 1
    expect_out_empty
    expect_count 0
    # defined but not running: still an error, and the definition stays
    mc define -u "$U2" -p mtty -t mtty-1
    expect_rc 0
    mc stop -u "$U2"
    expect_rc 1
    expect_conf "$U2"
    # running, stopped, stopped again
    mc start -u "$U3" -p mtty -t mtty-1
    expect_rc 0
    mc stop -u "$U3"
    expect_rc 0
    mc stop -u "$U3"
    expect_rc 1
    expect_count 0
    expect_avail 24 12
}

# --- define / undefine against running devices -----------------------------

sc_define-from-running() {
    # The parent comes from the device's canonical sysfs path
    # (/sys/devices/virtual/mtty/mtty/<uuid>), the type from its mdev_type link.
    k_create mtty-2 "$U1"
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual"
    mc define -u "$U1"
    expect_rc 0
    expect_out_empty
    expect_conf "$U1"
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual (defined)"
    mc list -d
    expect_rc 0
    expect_out "$U1 mtty mtty-2 manual (active)"
    mc define -u "$U1" --auto
    expect_rc 1
    expect_err_has "already defined"
    expect_active "$U1" mtty-2
}

sc_undefine-running() {
    mc define -u "$U1" -p mtty -t mtty-1 --auto
    expect_rc 0
    mc start -u "$U1"
    expect_rc 0
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-1 auto (defined)"
    mc undefine -u "$U1"
    expect_rc 0
    expect_no_conf "$U1"
    expect_active "$U1" mtty-1
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-1 manual"
    mc undefine -u "$U1"
    expect_rc 1
    expect_active "$U1" mtty-1
}

# --- attributes: real sysfs rejects the write, the device is rolled back -----

sc_attr-rollback() {
    # mtty devices have one attribute, vendor/sample_mdev_dev, read-only.
    local j=$SC_DIR/attrs-ro.json
    printf '{"mdev_type":"mtty-2","start":"manual","attrs":[{"vendor/sample_mdev_dev":"x"}]}' > "$j"
    mc start -u "$U1" -p mtty --jsonfile "$j"
    expect_rc 1
    expect_out_empty
    expect_err_starts "Error: Failed to write x to attribute vendor/sample_mdev_dev"
    expect_inactive "$U1"
    expect_count 0
    expect_avail 24 12
    j=$SC_DIR/attrs-missing.json
    printf '{"mdev_type":"mtty-1","start":"manual","attrs":[{"nosuchattr":"1"}]}' > "$j"
    mc define -u "$U2" -p mtty --jsonfile "$j"
    expect_rc 0
    mc start -u "$U2"
    expect_rc 1
    expect_err_starts "Error: Invalid attribute 'nosuchattr'"
    expect_inactive "$U2"
    expect_count 0
    expect_avail 24 12
    # an attribute-free json start works and prints the generated uuid
    j=$SC_DIR/plain.json
    printf '{"mdev_type":"mtty-1","start":"manual","attrs":[]}' > "$j"
    mc start -p mtty --jsonfile "$j"
    expect_rc 0
    expect_out_uuid
    [ -n "$NEWU" ] && expect_active "$NEWU" mtty-1
    expect_count 1
}

# --- lsmdev ------------------------------------------------------------------

sc_lsmdev() {
    mc define -u "$U2" -p mtty -t mtty-2 --auto
    expect_rc 0
    mc start -u "$U2"
    expect_rc 0
    k_create mtty-1 "$U1"
    mc list
    expect_rc 0
    local want
    want=$(printf '%s\n' "$U1 mtty mtty-1 manual" "$U2 mtty mtty-2 auto (defined)")
    expect_out "$want"
    mc_lsmdev
    expect_rc 0
    expect_out "$want"
    mc_lsmdev -d
    expect_rc 0
    expect_out "$U2 mtty mtty-2 auto (active)"
    mc list --dumpjson
    expect_rc 0
    local j=$OUTS
    mc_lsmdev --dumpjson
    expect_rc 0
    check "lsmdev --dumpjson = mdevctl list --dumpjson" [ "$OUTS" = "$j" ]
    mc_lsmdev -u "$U1"
    expect_rc 0
    expect_out "$U1 mtty mtty-1 manual"
}

# --- the original 2019 commands (seed-interface.md) --------------------------
# For Debian's 1.2.0, which lacks them, LEGACY is legacy-shim.sh, mapping each
# onto today's commands as seed-interface.md describes.

sc_legacy-2019() {
    mc_legacy create-mdev "$U1" mtty mtty-1
    expect_rc 0
    expect_out_empty
    expect_active "$U1" mtty-1
    expect_conf "$U1"
    mc_legacy list-mdevs
    expect_rc 0
    expect_out "$U1 mtty mtty-1"
    mc list
    expect_rc 0
    expect_out "$U1 mtty mtty-1 auto (defined)"
    mc_legacy list-saved
    expect_rc 0
    expect_out "$U1 mtty mtty-1"
    mc_legacy stop-mdev "$U1"
    expect_rc 0
    expect_inactive "$U1"
    expect_conf "$U1"
    mc_legacy list-mdevs
    expect_rc 0
    expect_out_empty
    mc_legacy start-mdev "$U1"
    expect_rc 0
    expect_active "$U1" mtty-1
    mc_legacy start-mdev "$U1"
    expect_rc 1
    expect_count 1
    mc_legacy remove-mdev "$U1"
    expect_rc 0
    expect_inactive "$U1"
    expect_no_conf "$U1"
    mc_legacy list-mdevs
    expect_rc 0
    expect_out_empty
    mc_legacy list-saved
    expect_rc 0
    expect_out_empty
    mc_legacy create-mdev "$U2" mtty mtty-9
    expect_rc 1
    expect_count 0
    expect_avail 24 12
}

sc_legacy-list-all() {
    [ "$IMPL" = debian ] && { SC_SKIP="no 2019 list-all/list-available in 1.2.0"; return 0; }
    mc_legacy list-all
    expect_rc 0
    expect_out "$(sysfs_list_all_text 0)"
    # 11 x mtty-2 + 1 x mtty-1 = 23 of 24 ports: mtty-2 has 0 left, mtty-1 has 1.
    local i
    for i in {1..11}; do k_create mtty-2 "$(new_uuid)"; done
    k_create mtty-1 "$U1"
    expect_avail 1 0
    mc_legacy list-all
    expect_rc 0
    expect_out "$(sysfs_list_all_text 0)"
    mc_legacy list-available
    expect_rc 0
    expect_out "$(sysfs_list_all_text 1)"
    check "list-available leaves out mtty-2" out_lacks mtty-2
}

# --- the parent goes away and comes back (module unload/reload) ---------------
# What udev autostart is for: the kernel removes every mdev of a parent that
# unregisters; when it registers again it sends a "change" uevent with
# MDEV_STATE=registered and the udev rule runs `start-parent-mdevs <parent>`.

sc_parent-unload-reload() {
    mc define -u "$U1" -p mtty -t mtty-1 --auto
    expect_rc 0
    mc define -u "$U2" -p mtty -t mtty-2
    expect_rc 0
    mc start -u "$U1"
    expect_rc 0
    mc start -u "$U2"
    expect_rc 0
    expect_count 2
    check "rmmod mtty (with 2 devices running)" rmmod mtty
    expect_count 0
    check "/sys/class/mdev_bus/mtty is gone" test ! -e /sys/class/mdev_bus/mtty
    mc list
    expect_rc 0
    expect_out_empty
    mc list -d
    expect_rc 0
    expect_out "$(printf '%s\n' "$U1 mtty mtty-1 auto" "$U2 mtty mtty-2 manual")"
    mc types
    expect_rc 0
    expect_out_empty
    mc start -u "$U1"
    expect_rc 1
    expect_err_starts "Error: Unable to find parent device 'mtty'"
    expect_count 0
    check "insmod mtty.ko again" insmod /run/kt-mtty.ko
    check "/sys/class/mdev_bus/mtty is back" test -d "$SYS_TYPES"
    mc start-parent-mdevs mtty
    expect_rc 0
    expect_active "$U1" mtty-1
    expect_inactive "$U2"
    expect_count 1
    expect_avail 23 11
}
