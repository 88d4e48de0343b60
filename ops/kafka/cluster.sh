# shellcheck shell=bash disable=SC2034 # (sets kafka.sh's globals)
# A 3-node Kafka cluster on loopback (`kafka.sh start --nodes 3`) and the commands on
# one of its nodes, for tests that stop, kill and restart brokers. Sourced by kafka.sh,
# whose helpers (broker_pid, launch_broker, check_started, ...) it uses.
#
# Each node combines broker and controller; the three are the controller quorum's
# voters (static controller.quorum.voters), so the cluster takes writes while two of
# them run. Layout of DIR:
#   nodes       the node count (3): marks DIR as a cluster's
#   version     the Kafka version that wrote the data
#   bootstrap   one line, the three client addresses, comma-separated
#   nodeN/      node N (1..3), laid out like a single broker's DIR: server.properties,
#               data/, pid, kafka.log (the previous run's in kafka.log.1), format.log
# Node N's broker id (node.id) is N, so `leader` prints what the nodes are called here.

readonly CLUSTER_SIZE=3
readonly CLUSTER_REPLICATION=3
readonly CLUSTER_MIN_ISR=2
# Three JVMs share the machine: a smaller heap than the single broker's, and more
# time to start (measured up to 45 s on 2 cores busy with other builds).
readonly NODE_HEAP=(-Xms64m -Xmx256m)
readonly CLUSTER_START_TIMEOUT=${SLUICE_KAFKA_START_TIMEOUT:-120}

node_dirs=() # set by set_node_dirs
set_node_dirs() { # set_node_dirs DIR: node_dirs=(DIR/node1 ... DIR/node3)
  local n
  node_dirs=()
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do node_dirs+=("$1/node$n"); done
}

is_cluster() { [[ -f $1/nodes ]]; }

need_cluster() { # need_cluster DIR
  is_cluster "$1" || die "$1 holds no cluster (no $1/nodes); start one with: $0 start --nodes 3 --dir $1"
}

# Sets the arrays client_ports and controller_ports (indexed 1..3). A restart keeps
# the ports of the previous run (they are the controller quorum's addresses); a new
# cluster takes PORT.. PORT+2 for clients and PORT+3.. PORT+5 for the controllers when
# given a PORT, else free ports.
cluster_ports() { # cluster_ports DIR REQUESTED_PORT
  local dir=$1 requested=$2 n conf listeners free=()
  client_ports=() controller_ports=()
  if [[ -f $dir/node1/data/meta.properties ]]; then
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
      conf=$dir/node$n/server.properties
      [[ -f $conf ]] || die "$conf is missing; add --fresh to wipe the cluster in $dir"
      listeners=$(prop advertised.listeners "$conf")
      client_ports[n]=${listeners##*:}
      listeners=$(prop listeners "$conf")
      controller_ports[n]=${listeners##*:}
    done
    [[ -z $requested || $requested == "${client_ports[1]}" ]] ||
      die "the cluster in $dir listens on port ${client_ports[1]} and up, not $requested; omit --port, or add --fresh"
    return 0
  fi
  if [[ -n $requested ]]; then
    ((requested + 2 * CLUSTER_SIZE - 1 <= 65535)) ||
      usage_error "--port $requested: a 3-node cluster needs 6 ports from it, up to 65535"
    for ((n = 1; n <= 2 * CLUSTER_SIZE; n++)); do free[n - 1]=$((requested + n - 1)); done
  else
    read -r -a free < <(free_ports $((2 * CLUSTER_SIZE)))
  fi
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    client_ports[n]=${free[n - 1]}
    controller_ports[n]=${free[n + CLUSTER_SIZE - 1]}
  done
}

cluster_bootstrap() { # prints 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
  local n list=()
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do list+=("127.0.0.1:${client_ports[n]}"); done
  (IFS=,; echo "${list[*]}")
}

# Writes each node's config and formats the storage of those without data, in
# parallel (a JVM start each), with one cluster id.
prepare_nodes() { # prepare_nodes DIR
  local dir=$1 n ids=() voters cluster_id jobs=() failed=0
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do ids+=("$n@127.0.0.1:${controller_ports[n]}"); done
  voters=$(IFS=,; echo "${ids[*]}")
  cluster_id=$(new_cluster_id)
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    mkdir -p "$dir/node$n"
    broker_port=${client_ports[n]} controller_port=${controller_ports[n]}
    write_config "$dir/node$n" "$n" "$voters" "$CLUSTER_REPLICATION" "$CLUSTER_MIN_ISR"
    format_storage "$dir/node$n" "$cluster_id" &
    jobs+=("$!")
  done
  for n in "${jobs[@]}"; do wait "$n" || failed=1; done
  ((!failed)) || exit 1 # format_storage said why
}

# Waits until each node N answers (pids[N] is its pid), looking at all of them in turn
# so that one that exits is reported at once. On failure shows that node's log tail
# and sets not_ready to a line naming the node, its log and why.
pids=()
await_nodes() { # await_nodes DIR DEADLINE N...
  local dir=$1 deadline=$2 n state waiting=("${@:3}") still
  while ((${#waiting[@]})); do
    still=()
    for n in "${waiting[@]}"; do
      state=0
      check_started "$dir/node$n" "${pids[n]}" "${client_ports[n]}" "$deadline" || state=$?
      if ((state == 1)); then
        tail -n 30 "$dir/node$n/kafka.log" >&2
        not_ready="node $n of the cluster in $dir $not_ready (log: $dir/node$n/kafka.log)"
        return 1
      fi
      ((state == 0)) || still+=("$n")
    done
    waiting=("${still[@]}")
    ((${#waiting[@]} == 0)) || sleep 0.25
  done
}

cmd_cluster_start() { # cmd_cluster_start DIR PORT FRESH
  local dir=$1 port=$2 fresh=$3 n
  [[ $dir != *[[:space:],\\]* ]] || die "--dir '$dir': a path without spaces, commas or backslashes, please"
  need java default-jre-headless
  need python3 python3
  if ((fresh)); then cmd_stop "$dir" 1; fi
  if [[ -f $dir/data/meta.properties ]] || broker_pid "$dir" >/dev/null; then
    die "$dir holds a single broker; start it without --nodes, or add --fresh to wipe it"
  fi
  check_data_version "$dir" "$dir/node1/data"
  cmd_fetch
  mkdir -p "$dir"
  cluster_ports "$dir" "$port"
  prepare_nodes "$dir"
  echo "$KAFKA_VERSION" >"$dir/version"
  echo "$CLUSTER_SIZE" >"$dir/nodes"

  rm -f "$dir/bootstrap"
  # All at once: a node's broker starts only once a quorum of controllers (two) runs.
  pids=()
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    pids[n]=$(broker_pid "$dir/node$n") || pids[n]=$(launch_broker "$dir/node$n" "${NODE_HEAP[@]}")
  done
  start_timeout=$CLUSTER_START_TIMEOUT
  if ! await_nodes "$dir" $((SECONDS + start_timeout)) "${!pids[@]}"; then
    for n in "${!pids[@]}"; do kill_broker "$dir/node$n" "${pids[n]}"; done
    die "$not_ready; killed the cluster's nodes"
  fi

  cluster_bootstrap >"$dir/bootstrap.tmp"
  mv -f "$dir/bootstrap.tmp" "$dir/bootstrap"
  echo "kafka.sh: Kafka $KAFKA_VERSION cluster of $CLUSTER_SIZE nodes running at $(<"$dir/bootstrap") (dir $dir)" >&2
  cat "$dir/bootstrap"
}

# --- one node --------------------------------------------------------------------------

cmd_stop_node() { # cmd_stop_node DIR N: SIGTERM (a controlled shutdown), SIGKILL after STOP_TIMEOUT
  need_cluster "$1"
  broker_pid "$1/node$2" >/dev/null || echo "kafka.sh: node $2 of $1 is not running" >&2
  stop_brokers "$1/node$2"
}

cmd_kill_node() { # cmd_kill_node DIR N: SIGKILL, as a crash would; returns once it is gone
  local pid
  need_cluster "$1"
  if ! pid=$(broker_pid "$1/node$2"); then
    echo "kafka.sh: node $2 of $1 is not running" >&2
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "node $2 (pid $pid) of $1 survived SIGKILL"
  rm -f "$1/node$2/pid"
  echo "kafka.sh: killed node $2 (pid $pid, dir $1)" >&2
}

# Starts node N again on its data and config, and waits until it answers: it has then
# caught up with the cluster's metadata and the controller unfenced it (its replicas
# catch up on their own afterwards).
cmd_start_node() { # cmd_start_node DIR N
  local dir=$1 n=$2 pid
  need_cluster "$dir"
  [[ -f $dir/version && -f $dir/node$n/data/meta.properties ]] ||
    die "node $n of $dir has no data; start the cluster with: $0 start --nodes 3 --dir $dir"
  select_version "$(<"$dir/version")"
  need java default-jre-headless
  cluster_ports "$dir" ""
  if pid=$(broker_pid "$dir/node$n"); then
    echo "kafka.sh: node $n of $dir already running (pid $pid)" >&2
    return 0
  fi
  pids=()
  pids[n]=$(launch_broker "$dir/node$n" "${NODE_HEAP[@]}")
  start_timeout=$CLUSTER_START_TIMEOUT
  if ! await_nodes "$dir" $((SECONDS + start_timeout)) "$n"; then
    kill_broker "$dir/node$n" "${pids[n]}"
    die "$not_ready; killed it"
  fi
  pid=${pids[n]}
  echo "kafka.sh: node $n running at 127.0.0.1:${client_ports[n]} (pid $pid, dir $dir)" >&2
}

# --- status, partitions --------------------------------------------------------------

cluster_status() { # cluster_status DIR: a line per node; exit status 0 when each answers
  local dir=$1 n pid all=0
  cluster_ports "$dir" ""
  for ((n = 1; n <= CLUSTER_SIZE; n++)); do
    if ! pid=$(broker_pid "$dir/node$n"); then
      echo "node $n: stopped (127.0.0.1:${client_ports[n]})"
      all=1
    elif ! port_open "${client_ports[n]}"; then
      echo "node $n: not answering (pid $pid, 127.0.0.1:${client_ports[n]}, log: $dir/node$n/kafka.log)"
      all=1
    else
      echo "node $n: running (pid $pid, 127.0.0.1:${client_ports[n]})"
    fi
  done
  return "$all"
}

# Prints the number of the node that leads TOPIC's PARTITION (WHAT leader), or those of
# its in-sync replicas, in order and comma-separated (WHAT isr), as the cluster's
# metadata has them.
cmd_partition() { # cmd_partition WHAT DIR TOPIC PARTITION
  need_cluster "$2"
  need python3 python3
  [[ -f $2/bootstrap ]] || die "$2/bootstrap is missing: the cluster has not started"
  python3 "$HERE/partition_metadata.py" "$1" "$(<"$2/bootstrap")" "$3" "$4" ||
    exit 1 # partition_metadata.py said why
}
