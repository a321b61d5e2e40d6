#!/usr/bin/env bash
# Under a cgroup CPU quota, mecbench must see the quota (cores available =
# the quota) and run OpenMP with the passive wait policy. Needs root and a
# writable cgroup cpu controller (v1 or v2); skips cleanly otherwise.
set -u
BUILD=${BUILD:-build}
MEC="$BUILD/mecbench"
pass=0
fail=0
check() { # name, condition result
    if [[ $2 == 0 ]]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi
}
skip() {
    echo "skip: $1"
    echo "0 passed, 0 failed"
    exit 0
}
[[ $(id -u) -eq 0 ]] || skip "not root: cannot create a cgroup"
name="mecbench-test-$$"
if [[ -d /sys/fs/cgroup/cpu && -w /sys/fs/cgroup/cpu ]]; then
    cg=/sys/fs/cgroup/cpu/$name
    mkdir "$cg" 2>/dev/null || skip "cannot create $cg"
    echo 100000 >"$cg/cpu.cfs_period_us" && echo 100000 >"$cg/cpu.cfs_quota_us" || { rmdir "$cg"; skip "cannot set a v1 quota"; }
elif [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
    cg=/sys/fs/cgroup/$name
    mkdir "$cg" 2>/dev/null || skip "cannot create $cg"
    echo "100000 100000" >"$cg/cpu.max" || { rmdir "$cg"; skip "cannot set a v2 quota"; }
else
    skip "no writable cgroup cpu controller"
fi
trap 'rmdir "$cg" 2>/dev/null' EXIT


out=$(env -u OMP_WAIT_POLICY bash -c "echo \$\$ > '$cg/cgroup.procs' && exec '$MEC' version")
grep -q "CPU quota  1 core" <<<"$out"
check "the 1-core quota is seen" $?
grep -q "cores      1 available" <<<"$out"
check "threads default to the quota" $?
grep -q "wait policy PASSIVE" <<<"$out"
check "OpenMP waits passively under a quota" $?
out=$(OMP_WAIT_POLICY=ACTIVE bash -c "echo \$\$ > '$cg/cgroup.procs' && exec '$MEC' version")
grep -q "wait policy ACTIVE" <<<"$out"
check "an explicit OMP_WAIT_POLICY is kept" $?
out=$(env -u OMP_WAIT_POLICY "$MEC" version)
grep -q "CPU quota  none" <<<"$out"
check "no quota outside the cgroup" $?
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
