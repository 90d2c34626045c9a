#!/usr/bin/env bash
# ensure-services.sh makes sure the services the tests and the demo use are
# up: PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Mosquitto
# on 127.0.0.1:1883. It is idempotent and needs no interaction:
#   - a service that already answers is left alone;
#   - an installed but stopped service is started;
#   - a missing one is installed with apt-get, configured and started.
# It waits up to WAIT_SECONDS (default 30) for each and exits non-zero, with
# the end of the service's log, when one does not answer.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

readonly HOST=127.0.0.1
readonly PG_PORT=5432
readonly MQTT_PORT=1883
readonly MQTT_CONF=/etc/mosquitto/mosquitto.conf
readonly WAIT_SECONDS="${WAIT_SECONDS:-30}"

log() { printf 'ensure-services: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# as_root runs a command as root, through sudo when needed.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "need root to run: $*"
	fi
}

# apt_install installs packages, running apt-get update once per script run.
APT_UPDATED=0
apt_install() {
	log "installing $*"
	if [ "$APT_UPDATED" -eq 0 ]; then
		as_root apt-get update -q </dev/null
		APT_UPDATED=1
	fi
	as_root apt-get install -y -q "$@" </dev/null
}

# tcp_open reports whether something accepts TCP connections on host:port.
tcp_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_for polls a check command once a second until it passes or time runs
# out; on timeout it prints the given log file's tail and fails.
wait_for() {
	local what=$1 logfile=$2
	shift 2
	local i
	for ((i = 0; i < WAIT_SECONDS; i++)); do
		if "$@"; then
			log "$what is up"
			return 0
		fi
		sleep 1
	done
	log "$what did not answer within ${WAIT_SECONDS}s"
	if [ -n "$logfile" ] && [ -r "$logfile" ]; then
		tail -n 30 "$logfile" >&2 || true
	fi
	die "$what is not available"
}

# --- PostgreSQL ---------------------------------------------------------

pg_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$HOST" -p "$PG_PORT"
	else
		tcp_open "$HOST" "$PG_PORT"
	fi
}

# pg_version prints the newest installed server major version, if any.
pg_version() {
	local bin
	for bin in /usr/lib/postgresql/*/bin/postgres; do
		if [ -x "$bin" ]; then
			basename "$(dirname "$(dirname "$bin")")"
		fi
	done | sort -n | tail -n 1
}

# pg_cluster prints "version name" of the cluster on PG_PORT, else of the
# first cluster of the given version.
pg_cluster() {
	local version=$1
	pg_lsclusters -h 2>/dev/null |
		awk -v v="$version" -v p="$PG_PORT" '
			$3 == p { print $1, $2; found = 1; exit }
			$1 == v && first == "" { first = $1 " " $2 }
			END { if (!found && first != "") print first }' || true
}

# pg_trust_postgres lets user postgres in without a password on the
# loopback addresses. Only for a fresh install: an existing pg_hba.conf
# belongs to whoever set it up.
pg_trust_postgres() {
	local hba="/etc/postgresql/$1/$2/pg_hba.conf"
	local marker="# added by routerlogger ensure-services.sh"
	[ -f "$hba" ] || die "no $hba to configure"
	if grep -qF "$marker" "$hba"; then
		return 0
	fi
	log "trusting user postgres on $HOST in $hba"
	# First matching line wins, so these go on top.
	as_root sed -i "1i $marker\\
host all postgres 127.0.0.1/32 trust\\
host all postgres ::1/128 trust" "$hba"
}

ensure_postgres() {
	if pg_ready; then
		log "PostgreSQL already answers on $HOST:$PG_PORT"
		return 0
	fi

	local fresh=0 version cluster
	version=$(pg_version)
	if [ -z "$version" ]; then
		apt_install postgresql
		fresh=1
		version=$(pg_version)
		[ -n "$version" ] || die "postgresql installed but no server found under /usr/lib/postgresql"
	fi

	cluster=$(pg_cluster "$version")
	if [ -z "$cluster" ]; then
		log "creating PostgreSQL $version cluster main on port $PG_PORT"
		as_root pg_createcluster --port "$PG_PORT" "$version" main </dev/null
		fresh=1
		cluster="$version main"
	fi
	# shellcheck disable=SC2086 # split "version name" into $1 $2
	set -- $cluster

	if [ "$fresh" -eq 1 ]; then
		pg_trust_postgres "$1" "$2"
		# apt may have started the server already; make it reread pg_hba.conf.
		as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload 2>/dev/null || true
	fi

	if ! pg_ready; then
		log "starting PostgreSQL cluster $1/$2"
		as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start ||
			log "pg_ctlcluster start failed; waiting anyway"
	fi
	wait_for "PostgreSQL on $HOST:$PG_PORT" \
		"/var/log/postgresql/postgresql-$1-$2.log" pg_ready
}

# --- Mosquitto ----------------------------------------------------------

mqtt_ready() { tcp_open "$HOST" "$MQTT_PORT"; }

# mosquitto_dirs creates the runtime folders the Debian config points at;
# /run is often empty in containers.
mosquitto_dirs() {
	local dir
	for dir in /run/mosquitto /var/log/mosquitto /var/lib/mosquitto; do
		as_root mkdir -p "$dir"
		if id mosquitto >/dev/null 2>&1; then
			as_root chown mosquitto: "$dir"
		fi
	done
}

ensure_mosquitto() {
	if mqtt_ready; then
		log "Mosquitto already answers on $HOST:$MQTT_PORT"
		return 0
	fi

	if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
		apt_install mosquitto mosquitto-clients
		# The package may have started the broker itself.
		if mqtt_ready; then
			log "Mosquitto is up"
			return 0
		fi
	fi
	local bin
	bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
	[ -f "$MQTT_CONF" ] || die "no $MQTT_CONF; reinstall the mosquitto package"

	mosquitto_dirs
	log "starting Mosquitto with $MQTT_CONF"
	as_root "$bin" -d -c "$MQTT_CONF" || log "mosquitto start failed; waiting anyway"
	wait_for "Mosquitto on $HOST:$MQTT_PORT" /var/log/mosquitto/mosquitto.log mqtt_ready
}

ensure_postgres
ensure_mosquitto
