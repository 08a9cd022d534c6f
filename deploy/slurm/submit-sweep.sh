#!/usr/bin/env bash
# Submits a grid search or cross-validation as a Slurm array job of N shards, and the merge as a job
# that starts once every shard succeeded (--dependency=afterok).
#
#   deploy/slurm/submit-sweep.sh --shards 4 --out /shared/sweeps/l2 -- \
#       grid --trainer logreg --param l2=1e-5,1e-4,1e-3 --param max-iterations=50,100 --data /shared/mnist
#
# Shard K writes OUT/shard-K-of-N/, the merge OUT/merged/ (report.md, results.json, pictures); logs go
# to OUT/logs/. OUT and --data must be on a file system every node sees. Options:
#   --shards N        array tasks (required)
#   --out DIR         the sweep folder (required)
#   --cpus C          CPUs per task (default 1); passed to mnist as --threads C unless the command sets it
#   --mnist CMD       how to run mnist (default: $MNIST, else 'mnist' on PATH), e.g. "dotnet /opt/mnist/mnist.dll"
#   --sbatch "ARGS"   extra sbatch arguments for both jobs, e.g. "--partition=cpu --time=02:00:00"
#   --no-refit        merge without refitting the best grid combination
# Prints the two job ids on its last line: "ARRAY_JOB MERGE_JOB".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ; }

shards="" out="" cpus=1 extra="" merge_args=()
mnist=${MNIST:-mnist}
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --mnist) mnist=$2; shift 2 ;;
    --sbatch) extra=$2; shift 2 ;;
    --no-refit) merge_args+=(--no-refit); shift ;;
    --) shift; break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1' (the mnist command goes after --)" >&2; exit 2 ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "error: --shards N (a positive number) is required" >&2; exit 2; }
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || { echo "error: --cpus must be a positive number, not '$cpus'" >&2; exit 2; }
[ -n "$out" ] || { echo "error: --out DIR is required" >&2; exit 2; }
[ $# -gt 0 ] && [[ "$1" == grid || "$1" == cv ]] || { echo "error: after -- give the mnist command: grid ... or cv ..." >&2; exit 2; }
for arg in "$@"; do
  case "$arg" in --out|--shard|--shard-count) echo "error: $arg is set by this script; leave it out of the mnist command" >&2; exit 2 ;; esac
done

mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
command=("$@" --out "$out")
printf '%s\n' "$@" | grep -qx -- '--threads' || command+=(--threads "$cpus")

read -ra sbatch_extra <<<"$extra"
export MNIST="$mnist"
array=$(sbatch --parsable "${sbatch_extra[@]}" --array="0-$((shards - 1))" --cpus-per-task="$cpus" \
  --output="$out/logs/shard-%a.log" "$here/shard.sbatch" "${command[@]}")
array=${array%%;*}
merge=$(sbatch --parsable "${sbatch_extra[@]}" --dependency="afterok:$array" --kill-on-invalid-dep=yes --cpus-per-task="$cpus" \
  --output="$out/logs/merge.log" "$here/merge.sbatch" "$out" "$shards" "${merge_args[@]}")
merge=${merge%%;*}
echo "Submitted the sweep as array job $array ($shards shards, $cpus CPU each) and the merge as job $merge (afterok:$array)."
echo "Shards: $out/shard-*-of-$shards   merged report: $out/merged/report.md   logs: $out/logs/"
echo "$array $merge"
