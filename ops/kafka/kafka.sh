#!/usr/bin/env bash
# A real Apache Kafka broker (single node, KRaft) on loopback, for local runs and tests,
# or a 3-node cluster (`start --nodes 3`, in cluster.sh). The broker's jars come from
# Maven Central and are cached outside the repo; each broker lives in its own DIR
# (config, data, pid, bootstrap, version, kafka.log).
# The Kafka version: --version, else $SLUICE_KAFKA_VERSION, else DEFAULT_VERSION; each
# version has its own cache. See README.md.
set -euo pipefail

readonly DEFAULT_VERSION=3.9.1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
# shellcheck source-path=SCRIPTDIR source=cluster.sh
source "$HERE/cluster.sh"
readonly CACHE=${SLUICE_CACHE:-${HOME:?set SLUICE_CACHE or HOME}/.cache/sluice}
readonly DEFAULT_DIR=$CACHE/local-kafka
readonly DEFAULT_PORT=9092
readonly START_TIMEOUT=${SLUICE_KAFKA_START_TIMEOUT:-60}
start_timeout=$START_TIMEOUT # the 3-node cluster's is longer (cluster.sh)
readonly STOP_TIMEOUT=30
# What KafkaRaftServer logs once the broker is unfenced and serving (Kafka 3.9, 4.1).
readonly STARTED_LINE='Kafka Server started (kafka.server.KafkaRaftServer)'
# The JVM options of Kafka's own kafka-run-class.sh, with a bounded heap.
readonly JVM_OPTS=(-Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
  -Djava.awt.headless=true)

# Set once by select_version.
KAFKA_VERSION=""
KAFKA_HOME=""
LIBS=""
COMPLETE="" # written last by fetch
JAVA=()

usage() {
  cat <<EOF
usage: kafka.sh fetch  [--version V]                    cache the broker's jars
       kafka.sh start  [--version V] [--dir DIR] [--port N] [--fresh] [--nodes 1|3]
                                                        start a broker (or 3), print host:port
       kafka.sh stop   [--dir DIR] [--clean]             stop it (all nodes); --clean also wipes the data
       kafka.sh status [--dir DIR]                       exit 0 when it (each node) runs and answers
       kafka.sh run    [--version V] CLASS [ARG...]      run a Kafka tool class on the jars
     a 3-node cluster's single nodes (N: 1, 2 or 3):
       kafka.sh stop-node  N [--dir DIR]                 SIGTERM, wait until it exited
       kafka.sh kill-node  N [--dir DIR]                 SIGKILL
       kafka.sh start-node N [--dir DIR]                 restart it on its data, wait until it answers
       kafka.sh leader TOPIC PARTITION [--dir DIR]       print the node that leads the partition
       kafka.sh isr    TOPIC PARTITION [--dir DIR]       print its in-sync nodes, e.g. 1,2,3
V: a Kafka 3.x or 4.x release; default \$SLUICE_KAFKA_VERSION, else $DEFAULT_VERSION.
DIR defaults to $DEFAULT_DIR (port $DEFAULT_PORT when free, else a free port).
--nodes 3 --port N: clients on N, N+1, N+2, controllers on N+3, N+4, N+5.
EOF
}
die() {
  echo "kafka.sh: $*" >&2
  exit 1
}
usage_error() {
  echo "kafka.sh: $* (see kafka.sh --help)" >&2
  exit 2
}
need() { # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null ||
    die "$1 not found on PATH; run ops/setup.sh (it installs $2)"
}

# --- versions ------------------------------------------------------------------

# Sets the version globals. Kafka 3.x logs through reload4j (log4j 1) and 4.x through
# log4j2, each with its own config file; the pom's profiles fetch the matching backend.
select_version() { # select_version VERSION
  local version=$1 logging
  [[ $version =~ ^[34]\.[0-9]+\.[0-9]+$ ]] ||
    usage_error "Kafka version: expected a 3.x.y or 4.x.y release, got '$version'"
  case $version in
    3.*) logging=-Dlog4j.configuration=file:$HERE/log4j.properties ;;
    4.*) logging=-Dlog4j2.configurationFile=$HERE/log4j2.properties ;;
  esac
  KAFKA_VERSION=$version
  KAFKA_HOME=$CACHE/kafka-$version
  LIBS=$KAFKA_HOME/libs
  COMPLETE=$KAFKA_HOME/complete
  JAVA=(java "${JVM_OPTS[@]}" -cp "$LIBS/*" "$logging")
  readonly KAFKA_VERSION KAFKA_HOME LIBS COMPLETE JAVA
}

# --- fetch -------------------------------------------------------------------

cmd_fetch() {
  [[ -f $COMPLETE ]] && return 0
  need java default-jre-headless
  need mvn maven
  mkdir -p "$KAFKA_HOME"
  # Concurrent fetches (two brokers started at once) take turns; the second finds
  # the work done.
  exec 9>"$KAFKA_HOME.lock"
  flock 9
  if [[ ! -f $COMPLETE ]]; then
    echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS" >&2
    local partial=$KAFKA_HOME/libs.partial log=$KAFKA_HOME/fetch.log
    rm -rf "$partial" "$LIBS"
    if ! mvn -B -q -f "$HERE/pom.xml" "-Dkafka.version=$KAFKA_VERSION" \
      "-Dkafka.major=${KAFKA_VERSION%%.*}" "-DoutputDirectory=$partial" \
      dependency:copy-dependencies >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      die "fetching Kafka $KAFKA_VERSION with Maven failed (full log: $log)"
    fi
    mv "$partial" "$LIBS"
    echo "$KAFKA_VERSION" >"$COMPLETE"
  fi
  exec 9>&-
}

# --- process helpers -----------------------------------------------------------

# Prints the pid of the broker running from DIR and succeeds, or fails. Checks the
# process's command line, so a stale pid file naming a recycled pid (or a zombie)
# does not count.
broker_pid() {
  local dir=$1 pid cmdline
  [[ -f $dir/pid ]] || return 1
  pid=$(<"$dir/pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *" kafka.Kafka $dir/server.properties "* ]] || return 1
  echo "$pid"
}

process_gone() { # process_gone PID: no such process, or only its zombie
  # The state in /proc/PID/stat, not an empty cmdline: that is also what a
  # process shows for a moment while it execs (setsid -> java), which once
  # made a healthy broker look dead at startup.
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  local state=${stat##*) }
  state=${state%% *}
  [[ $state == Z || $state == X ]]
}

wait_gone() { # wait_gone PID SECONDS
  local deadline=$((SECONDS + $2))
  until process_gone "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_free() {
  python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' \
    "$1" 2>/dev/null
}

free_ports() { # free_ports COUNT: prints COUNT distinct free TCP ports on 127.0.0.1
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}

# A cluster id by the rule of Kafka's Uuid.randomUuid() (16 random bytes, base64url,
# not starting with '-'), without paying for a second JVM start.
new_cluster_id() {
  python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

prop() { # prop KEY FILE: the value of KEY in a .properties file we wrote
  sed -n "s/^$1=//p" "$2"
}

# --- start ---------------------------------------------------------------------

# Sets the globals broker_port and controller_port. A restart in the same DIR keeps
# the ports (and the data) of the previous run, so clients reconnect to the same
# address; the default DIR takes 9092 when it is free.
choose_ports() {
  local dir=$1 requested=$2 conf=$1/server.properties
  broker_port=$requested controller_port=""
  if [[ -f $conf && -f $dir/data/meta.properties ]]; then
    local previous
    previous=$(prop advertised.listeners "$conf")
    [[ -n $broker_port ]] || broker_port=${previous##*:}
    previous=$(prop controller.quorum.voters "$conf")
    [[ ${previous##*:} == "$broker_port" ]] || controller_port=${previous##*:}
  fi
  if [[ -z $broker_port && $dir == "$DEFAULT_DIR" ]] && port_free "$DEFAULT_PORT"; then
    broker_port=$DEFAULT_PORT
  fi
  local a b
  read -r a b < <(free_ports 2)
  [[ -n $broker_port ]] || broker_port=$a
  if [[ -z $controller_port ]]; then
    controller_port=$a
    [[ $a != "$broker_port" ]] || controller_port=$b
  fi
}

# Writes DIR/server.properties for node ID of a cluster of VOTERS (id@host:port,...),
# listening on the globals broker_port and controller_port.
write_config() { # write_config DIR ID VOTERS REPLICATION MIN_ISR
  local text
  text=$(<"$HERE/server.properties.in")
  text=${text//@NODE_ID@/"$2"}
  text=${text//@VOTERS@/"$3"}
  text=${text//@REPLICATION@/"$4"}
  text=${text//@MIN_ISR@/"$5"}
  text=${text//@BROKER_PORT@/"$broker_port"}
  text=${text//@CONTROLLER_PORT@/"$controller_port"}
  text=${text//@DATA_DIR@/"$1/data"}
  printf '%s\n' "$text" >"$1/server.properties"
}

# Refuses to start DIR's data on another Kafka version than the one that wrote it: an
# upgrade is a one-way step and a downgrade fails deep in the broker's log.
check_data_version() { # check_data_version DIR [DATA_DIR]
  local dir=$1 previous
  [[ -f ${2:-$dir/data}/meta.properties && -f $dir/version ]] || return 0
  previous=$(<"$dir/version")
  [[ $previous == "$KAFKA_VERSION" ]] ||
    die "$dir holds the data of Kafka $previous, not $KAFKA_VERSION; add --fresh to wipe it, or use another --dir"
}

format_storage() { # format_storage DIR [CLUSTER_ID]: once; a restart keeps the data
  local dir=$1
  [[ -f $dir/data/meta.properties ]] && return 0
  # A tool run of a second or two: the C1 compiler alone halves its CPU time (measured
  # 1.1 s against 2.1 s), which counts when a cluster formats three at once.
  if ! "${JAVA[@]}" -XX:TieredStopAtLevel=1 kafka.tools.StorageTool format \
    -t "${2:-$(new_cluster_id)}" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    tail -n 20 "$dir/format.log" >&2
    die "formatting KRaft storage in $dir/data failed (log: $dir/format.log)"
  fi
}

# Starts the broker of DIR in the background (extra JVM options, e.g. a smaller heap,
# override the defaults) and prints its pid.
launch_broker() { # launch_broker DIR [JVM_OPTION...]
  local dir=$1
  if [[ -f $dir/kafka.log ]]; then mv -f "$dir/kafka.log" "$dir/kafka.log.1"; fi
  # Its own session: the broker outlives this script and the terminal it ran in.
  setsid "${JAVA[@]}" "${@:2}" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/kafka.log" 2>&1 &
  echo "$!" >"$dir/pid"
  echo "$!"
}

# One look at the broker of DIR, starting: 0 when it accepts TCP connections on PORT
# and has logged that it started (in KRaft: it caught up with the metadata and the
# active controller unfenced it), 2 while it is still on its way, 1 when it exited or
# DEADLINE (a value of $SECONDS) passed, with not_ready set to which.
not_ready=""
check_started() { # check_started DIR PID PORT DEADLINE
  if port_open "$3" && grep -qF "$STARTED_LINE" "$1/kafka.log"; then return 0; fi
  if process_gone "$2"; then
    not_ready="exited during startup"
    return 1
  fi
  if ((SECONDS >= $4)); then
    not_ready="did not answer on 127.0.0.1:$3 within ${start_timeout}s"
    return 1
  fi
  return 2
}

kill_broker() { # kill_broker DIR PID: SIGKILL, and forget its pid
  kill -KILL "$2" 2>/dev/null || true
  wait_gone "$2" 10 || true
  rm -f "$1/pid"
}

# Waits until the broker answers; on failure shows the log, kills the broker and exits.
wait_ready() { # wait_ready DIR PID
  local dir=$1 pid=$2
  local deadline=$((SECONDS + start_timeout)) state=2
  while ((state == 2)); do
    state=0
    check_started "$dir" "$pid" "$broker_port" "$deadline" || state=$?
    ((state != 2)) || sleep 0.25
  done
  ((state)) || return 0
  tail -n 30 "$dir/kafka.log" >&2
  kill_broker "$dir" "$pid"
  die "broker in $dir $not_ready (log: $dir/kafka.log)"
}

# A second `start` of a running broker: print its address, as the first one did, when
# it answers and is what was asked for; else exit 1 saying why.
report_running() { # report_running DIR PID REQUESTED_PORT
  local dir=$1 pid=$2 requested=$3 address="" version=""
  local stop_it="stop it first: $0 stop --dir $dir"
  if [[ -f $dir/bootstrap ]]; then address=$(<"$dir/bootstrap"); fi
  if [[ -f $dir/version ]]; then version=$(<"$dir/version"); fi
  [[ -n $address ]] && port_open "${address##*:}" ||
    die "a broker runs from $dir (pid $pid) but does not answer (log: $dir/kafka.log); $stop_it"
  [[ $version == "$KAFKA_VERSION" ]] ||
    die "a broker of Kafka ${version:-unknown} runs from $dir (pid $pid), not $KAFKA_VERSION; $stop_it"
  [[ -z $requested || $requested == "${address##*:}" ]] ||
    die "a broker runs from $dir at $address (pid $pid), not on port $requested; $stop_it"
  echo "kafka.sh: Kafka $version already running at $address (pid $pid, dir $dir)" >&2
  echo "$address"
}

cmd_start() { # cmd_start DIR PORT FRESH
  local dir=$1 port=$2 fresh=$3 pid
  [[ $dir != *[[:space:],\\]* ]] || die "--dir '$dir': a path without spaces, commas or backslashes, please"
  need java default-jre-headless
  need python3 python3
  if ((fresh)); then
    cmd_stop "$dir" 1
  elif pid=$(broker_pid "$dir"); then
    report_running "$dir" "$pid" "$port"
    return 0
  fi
  ! is_cluster "$dir" ||
    die "$dir holds a 3-node cluster; start it with --nodes 3, or add --fresh to wipe it"
  check_data_version "$dir"
  cmd_fetch
  mkdir -p "$dir"
  choose_ports "$dir" "$port"
  write_config "$dir" 1 "1@127.0.0.1:$controller_port" 1 1
  format_storage "$dir"
  echo "$KAFKA_VERSION" >"$dir/version"

  rm -f "$dir/bootstrap"
  pid=$(launch_broker "$dir")
  wait_ready "$dir" "$pid"

  echo "127.0.0.1:$broker_port" >"$dir/bootstrap.tmp"
  mv -f "$dir/bootstrap.tmp" "$dir/bootstrap"
  echo "kafka.sh: Kafka $KAFKA_VERSION running at 127.0.0.1:$broker_port (pid $pid, dir $dir)" >&2
  echo "127.0.0.1:$broker_port"
}

# --- stop, status ----------------------------------------------------------------

# Stops the brokers of the DIRs that run one: SIGTERM to all at once (a cluster's
# nodes then shut down together, no node waiting for the others' exit), SIGKILL to
# those still running STOP_TIMEOUT seconds later.
stop_brokers() { # stop_brokers DIR...
  local dir pid pids=() dirs=() i deadline=$((SECONDS + STOP_TIMEOUT))
  for dir; do
    if pid=$(broker_pid "$dir"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid") dirs+=("$dir")
    fi
  done
  for i in "${!pids[@]}"; do
    pid=${pids[i]} dir=${dirs[i]}
    if ! wait_gone "$pid" $((deadline > SECONDS ? deadline - SECONDS : 0)); then
      echo "kafka.sh: broker (pid $pid) still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || die "broker (pid $pid) from $dir survived SIGKILL"
    fi
    echo "kafka.sh: stopped broker (pid $pid, dir $dir)" >&2
  done
  for dir; do rm -f "$dir/pid"; done
}

cmd_stop() { # cmd_stop DIR CLEAN
  local dir=$1 clean=$2
  set_node_dirs "$dir"
  if is_cluster "$dir"; then
    stop_brokers "$dir" "${node_dirs[@]}"
  else
    stop_brokers "$dir"
  fi
  if ((clean)); then
    rm -rf "$dir/data" "$dir/server.properties" "$dir/bootstrap" "$dir/version" \
      "$dir/format.log" "${node_dirs[@]}" "$dir/nodes"
  fi
}

cmd_status() { # cmd_status DIR; exit status 0 only when the broker runs and answers
  local dir=$1 pid bootstrap="none" version="unknown"
  if [[ -f $dir/bootstrap ]]; then bootstrap=$(<"$dir/bootstrap"); fi
  if [[ -f $dir/version ]]; then version=$(<"$dir/version"); fi
  echo "bootstrap: $bootstrap"
  echo "version: $version"
  if is_cluster "$dir"; then
    cluster_status "$dir"
    return
  fi
  if ! pid=$(broker_pid "$dir"); then
    echo "state: stopped"
    return 1
  fi
  if [[ $bootstrap == none ]] || ! port_open "${bootstrap##*:}"; then
    echo "state: not answering (pid $pid, log: $dir/kafka.log)"
    return 1
  fi
  echo "state: running (pid $pid)"
}

# --- run -----------------------------------------------------------------------------

cmd_run() { # cmd_run CLASS [ARG...]: e.g. kafka.admin.ConfigCommand, on this version's jars
  need java default-jre-headless
  cmd_fetch
  exec "${JAVA[@]}" "$@"
}

# --- main --------------------------------------------------------------------------

# Parses the command line into the globals below; exits on --help and usage errors.
cmd="" dir=$DEFAULT_DIR port="" fresh=0 clean=0 version=${SLUICE_KAFKA_VERSION:-$DEFAULT_VERSION}
nodes=1
run_args=() # run: CLASS [ARG...]; the node commands: N; leader: TOPIC PARTITION
parse_args() {
  (($#)) || usage_error "missing command"
  cmd=$1
  shift
  case $cmd in
    fetch | start | stop | status | run | stop-node | kill-node | start-node | leader | isr) ;;
    -h | --help | help) usage && exit 0 ;;
    *) usage_error "unknown command '$cmd'" ;;
  esac
  while (($#)); do
    case $cmd:$1 in
      fetch:--version | start:--version | run:--version)
        [[ -n ${2:-} ]] || usage_error "--version needs a value"
        version=$2
        shift
        ;;
      start:--dir | stop:--dir | status:--dir | *-node:--dir | leader:--dir | isr:--dir)
        [[ -n ${2:-} ]] || usage_error "--dir needs a value"
        dir=$2
        shift
        ;;
      start:--port)
        [[ -n ${2:-} ]] || usage_error "--port needs a value"
        if ! [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] || (($2 > 65535)); then
          usage_error "--port: expected 1-65535, got '$2'"
        fi
        port=$2
        shift
        ;;
      start:--fresh) fresh=1 ;;
      start:--nodes)
        [[ ${2:-} == 1 || ${2:-} == 3 ]] || usage_error "--nodes: expected 1 or 3, got '${2:-}'"
        nodes=$2
        shift
        ;;
      stop:--clean) clean=1 ;;
      *:-h | *:--help) usage && exit 0 ;;
      run:[!-]*) break ;; # the class: it and what follows go to java as they are
      *-node:[!-]* | leader:[!-]* | isr:[!-]*) run_args+=("$1") ;;
      *) usage_error "unknown argument '$1' for '$cmd'" ;;
    esac
    shift
  done
  run_args+=("$@")
  case $cmd:${#run_args[@]} in
    run:0) usage_error "run needs a class, e.g. kafka.admin.ConfigCommand" ;;
    *-node:1) [[ ${run_args[0]} =~ ^[1-3]$ ]] ||
      usage_error "$cmd: expected a node number 1, 2 or 3, got '${run_args[0]}'" ;;
    *-node:*) usage_error "$cmd needs one node number (1, 2 or 3)" ;;
    leader:2 | isr:2) [[ ${run_args[1]} =~ ^[0-9]+$ ]] ||
      usage_error "$cmd: expected a partition number, got '${run_args[1]}'" ;;
    leader:* | isr:*) usage_error "$cmd needs a topic and a partition number" ;;
  esac
  dir=$(realpath -m -- "$dir")
}

main() {
  parse_args "$@"
  case $cmd in
    fetch) select_version "$version"; cmd_fetch ;;
    start)
      select_version "$version"
      if ((nodes == 3)); then
        cmd_cluster_start "$dir" "$port" "$fresh"
      else
        cmd_start "$dir" "$port" "$fresh"
      fi
      ;;
    stop) cmd_stop "$dir" "$clean" ;; # stop and status need no version
    status) cmd_status "$dir" ;;
    run) select_version "$version"; cmd_run "${run_args[@]}" ;;
    stop-node) cmd_stop_node "$dir" "${run_args[0]}" ;;
    kill-node) cmd_kill_node "$dir" "${run_args[0]}" ;;
    start-node) cmd_start_node "$dir" "${run_args[0]}" ;; # the cluster's own version
    leader | isr) cmd_partition "$cmd" "$dir" "${run_args[@]}" ;;
  esac
}

main "$@"
