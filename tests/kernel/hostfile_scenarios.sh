# tests/kernel/hostfile_scenarios.sh - host-file scenarios (docs/hostfile.md),
# sourced by suite.sh after scenarios.sh. Debian's 1.2.0 has no host files:
# these are skipped for it.

SCENARIOS+=(
    hostfile-apply
    hostfile-in-use
    hostfile-late-parent
)

HF_LEDGER=/var/lib/mdevctl/owners/kt.json

# hf_lines ACTION: the "<sigil> mtty/<uuid> <type> ACTION [start=..] rule=<pool> slot=<n>"
# lines of the last command's stdout, as "uuid type pool slot" in HF_LINES.
hf_lines() {
    local l re="^. mtty/($UUID_RE) (mtty-[12]) $1( start=[a-z]+)? rule=([a-z]+) slot=([0-9]+)( status=[a-z]+)?$"
    HF_LINES=()
    while IFS= read -r l; do
        [[ $l =~ $re ]] && HF_LINES+=("${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]}")
    done <<< "$OUTS"
}

# A perParent pool of mtty-1 and a count pool of mtty-2 share mtty's 24 ports
# (mtty-1 takes 1, mtty-2 takes 2). apply defines, diff is then in sync,
# --start runs them, and shrinking with --prune --start stops and undefines
# exactly the instances the placement rules name (highest slots first).
sc_hostfile-apply() {
    if [ "$IMPL" != ours ]; then SC_SKIP="host files are not part of mdevctl 1.2.0"; return; fi
    local f=/tmp/kt-host.yaml u t p s kept=() gone=()
    rm -f "$HF_LEDGER"
    printf '%s\n' 'version: 1' 'owner: kt' 'pools:' \
        '  - {name: one, type: mtty-1, perParent: 2}' \
        '  - {name: two, type: mtty-2, count: 3}' > "$f"
    mc apply -f "$f"
    expect_rc 0
    hf_lines define
    check "apply defined 5 devices (2 mtty-1, 3 mtty-2)" [ "${#HF_LINES[@]}" = 5 ]
    for l in "${HF_LINES[@]}"; do read -r u t p s <<< "$l"; expect_conf "$u"; done
    expect_count 0
    mc diff -f "$f"
    expect_rc 0
    expect_out "in sync: 5 managed"

    mc apply -f "$f" --start
    expect_rc 0
    hf_lines start
    check "apply --start started 5 devices" [ "${#HF_LINES[@]}" = 5 ]
    for l in "${HF_LINES[@]}"; do read -r u t p s <<< "$l"; expect_active "$u" "$t"; done
    expect_count 5
    expect_avail 16 8
    mc diff -f "$f" --start
    expect_rc 0

    # Shrink: one keeps slot 0, two keeps slot 0.
    printf '%s\n' 'version: 1' 'owner: kt' 'pools:' \
        '  - {name: one, type: mtty-1, perParent: 1}' \
        '  - {name: two, type: mtty-2, count: 1}' > "$f"
    mc diff -f "$f" --prune --start
    expect_rc 3
    check "diff summary" [ "${OUTS##*$'\n'}" = "drift: 6 changes (stop 3, undefine 3)" ]
    hf_lines stop
    for l in "${HF_LINES[@]}"; do read -r u t p s <<< "$l"; gone+=("$u"); check "stop of $p slot $s (slot >= 1)" [ "$s" -ge 1 ]; done
    check "3 stops" [ "${#gone[@]}" = 3 ]

    mc apply -f "$f" --prune --start
    expect_rc 0
    for u in "${gone[@]}"; do expect_inactive "$u"; expect_no_conf "$u"; done
    expect_count 2
    expect_avail 21 10
    k_devices
    for u in "${KDEVS[@]}"; do expect_conf "$u"; done
    mc diff -f "$f" --prune --start
    expect_rc 0
    expect_out "in sync: 2 managed"
    rm -f "$HF_LEDGER" "$f"
}

# In use: while something holds a device's VFIO group, apply --prune --start
# skips its stop and undefine (exit 1); released, the next apply converges.
sc_hostfile-in-use() {
    if [ "$IMPL" != ours ]; then SC_SKIP="host files are not part of mdevctl 1.2.0"; return; fi
    local f=/tmp/kt-host.yaml u g=
    rm -f "$HF_LEDGER"
    printf '%s\n' 'version: 1' 'owner: kt' 'pools:' '  - {name: one, type: mtty-1, perParent: 1}' > "$f"
    mc apply -f "$f" --start
    expect_rc 0
    hf_lines define
    read -r u _ <<< "${HF_LINES[0]:-}"
    check "one device defined" [ "${#HF_LINES[@]}" = 1 ]
    expect_active "$u" mtty-1
    printf '%s\n' 'version: 1' 'owner: kt' 'pools: []' > "$f"
    [ -L "$SYS_DEVS/$u/iommu_group" ] && g=$(readlink "$SYS_DEVS/$u/iommu_group") && g=${g##*/}
    if [ -z "$g" ] || [ ! -c "/dev/vfio/$g" ] || ! exec 9<>"/dev/vfio/$g"; then
        fail "no VFIO group node for $u (group '$g')"; return
    fi
    mc apply -f "$f" --prune --start
    exec 9>&-
    # The installed launcher grants the program its view of /dev/vfio
    # (docs/sandbox.md): the check runs, it does not warn that it cannot.
    check "the in-use check could open /dev/vfio/$g" [ "${ERRS/cannot tell whether/}" = "$ERRS" ]
    expect_rc 1
    check "stop of the busy device skipped (in-use)" \
        grep -q "^< mtty/$u .* status=skipped (in-use)$" "$OUT"
    expect_err_has "is in use"
    expect_active "$u" mtty-1
    expect_conf "$u"
    mc apply -f "$f" --prune --start
    expect_rc 0
    expect_inactive "$u"
    expect_no_conf "$u"
    rm -f "$HF_LEDGER" "$f"
}

# hf_state: the bytes and inode of every file under /etc/mdevctl.d/mtty and of
# the ledger, in HF_STATE (one string; compared whole). Writes are atomic
# renames, so a file rewritten even with the same bytes has a new inode.
hf_state() {
    local c
    HF_STATE=$(stat -c '%n %i' "$CONF"/mtty/* "$HF_LEDGER" 2>&1)$'\n'
    for c in "$CONF"/mtty/*; do readraw "$c"; HF_STATE+="$c"$'\n'"$REPLY"$'\n'; done
    readraw "$HF_LEDGER"; HF_STATE+="ledger"$'\n'"$REPLY"
}

# A late parent: the managed devices of a pool and an explicit device on mtty
# survive `apply --prune` while the parent is unloaded (rmmod mtty, as when a
# vendor driver reloads or a VF is not created yet): no undefine, no ledger
# change, diff plans nothing; once it is back (insmod), `apply --prune --start`
# starts the same uuids from the same definitions.
sc_hostfile-late-parent() {
    if [ "$IMPL" != ours ]; then SC_SKIP="host files are not part of mdevctl 1.2.0"; return; fi
    local f=/tmp/kt-host.yaml l u i uuids=() types=() started=() before
    local re="^\+ mtty/($UUID_RE) (mtty-[12]) define( |$)"
    rm -f "$HF_LEDGER"
    printf '%s\n' 'version: 1' 'owner: kt' \
        'pools: [{name: one, type: mtty-1, perParent: 2}]' \
        'devices: [{id: late, parent: mtty, type: mtty-2}]' > "$f"
    mc apply -f "$f" --prune --start
    expect_rc 0
    while IFS= read -r l; do
        [[ $l =~ $re ]] && uuids+=("${BASH_REMATCH[1]}") && types+=("${BASH_REMATCH[2]}")
    done <<< "$OUTS"
    check "apply defined 3 devices (2 pool, 1 explicit)" [ "${#uuids[@]}" = 3 ]
    for i in "${!uuids[@]}"; do
        expect_conf "${uuids[$i]}"; expect_active "${uuids[$i]}" "${types[$i]}"
    done
    expect_count 3
    expect_avail 20 10
    for u in "${uuids[@]}"; do
        check "ledger has $u" grep -q "\"$u\"" "$HF_LEDGER"
    done
    hf_state; before=$HF_STATE

    check "rmmod mtty (with 3 devices running)" rmmod mtty
    check "/sys/class/mdev_bus/mtty is gone" test ! -e "$SYS_PARENT"
    expect_count 0
    # The parent is absent: nothing to undefine or define. The file's pool
    # matches no registered parent, which may be reported as unsatisfied (4).
    mc apply -f "$f" --prune
    check "apply --prune without the parent: exit 0 or 4 (got $RC)" [ "$RC" = 0 -o "$RC" = 4 ]
    check "apply --prune without the parent changed nothing" \
        eval '! grep -q "^[-<~+>] " "$OUT"'
    hf_state
    check "configs and ledger untouched by apply --prune (parent absent)" \
        [ "$HF_STATE" = "$before" ]
    mc diff -f "$f" --prune
    check "diff --prune without the parent: exit 0 or 4, no drift (got $RC)" [ "$RC" = 0 -o "$RC" = 4 ]
    check "diff --prune plans no undefine" eval '! grep -q "^- " "$OUT"'
    mc diff -f "$f" --prune --start
    check "diff --prune --start without the parent: exit 0 or 4 (got $RC)" [ "$RC" = 0 -o "$RC" = 4 ]
    check "diff --prune --start plans no change" eval '! grep -q "^[-<~+>] " "$OUT"'

    check "insmod mtty.ko again" insmod /run/kt-mtty.ko
    check "/sys/class/mdev_bus/mtty is back" test -d "$SYS_TYPES"
    expect_count 0
    mc apply -f "$f" --prune --start
    expect_rc 0
    re="^> mtty/($UUID_RE) (mtty-[12]) start( |$)"
    while IFS= read -r l; do [[ $l =~ $re ]] && started+=("${BASH_REMATCH[1]}"); done <<< "$OUTS"
    check "apply --prune --start started the same 3 uuids" \
        [ "$(printf '%s\n' "${started[@]}" | sort)" = "$(printf '%s\n' "${uuids[@]}" | sort)" ]
    check "apply --prune --start only started (no define, modify, undefine, stop)" \
        eval '! grep -q "^[-<~+] " "$OUT"'
    for i in "${!uuids[@]}"; do expect_active "${uuids[$i]}" "${types[$i]}"; done
    expect_count 3
    expect_avail 20 10
    hf_state
    check "configs and ledger untouched after the parent came back" [ "$HF_STATE" = "$before" ]
    mc diff -f "$f" --prune --start
    expect_rc 0
    expect_out "in sync: 3 managed"
    # The next scenario's reset needs the parent, whatever happened above.
    [ -d "$SYS_PARENT" ] || insmod /run/kt-mtty.ko
    rm -f "$HF_LEDGER" "$f"
}
