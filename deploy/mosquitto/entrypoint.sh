#!/bin/sh
# Writes the broker's accounts (Mosquitto's dynamic-security plugin) from the secrets in the
# environment, then starts the broker. It runs at every start, so .env stays the one place the
# passwords live: to change one, edit .env and recreate the container
# (`docker compose up -d mosquitto`).
#
# Every account but `bauhof` is bound to one client id: the broker lets that account in with
# no other id, so no account can connect as another account's client (issue 13: a persistent
# session goes to whoever connects with its id). Who may use which topic: deploy/mosquitto/acl
# (mounted at /mosquitto/config/acl), turned into one role per account there. See
# docs/security.md.
set -eu

dynsec_file="${MOSQUITTO_DYNSEC_FILE:-/mosquitto/auth/dynamic-security.json}"
acl_file="${MOSQUITTO_ACL_FILE:-/mosquitto/config/acl}"
: "${MQTT_BAUHOF_PASSWORD:?set MQTT_BAUHOF_PASSWORD in .env}"
: "${MQTT_CHIRPSTACK_PASSWORD:?set MQTT_CHIRPSTACK_PASSWORD in .env}"
: "${MQTT_GATEWAY_BRIDGE_PASSWORD:?set MQTT_GATEWAY_BRIDGE_PASSWORD in .env}"
ingest_workers="${MQTT_INGEST_WORKERS:-1}"
case "$ingest_workers" in
    ''|*[!0-9]*|0) echo "MQTT_INGEST_WORKERS must be a whole number from 1, got '$ingest_workers'" >&2
                   exit 2 ;;
esac

umask 077
mkdir -p "$(dirname "$dynsec_file")"
staged="$dynsec_file.new"
hashes="$dynsec_file.hash"
rm -f "$staged" "$hashes"
# A half-written file never replaces the last good one.
trap 'rm -f "$staged" "$hashes"' EXIT

# client USER PASSWORD CLIENT_ID ROLE: one account; its password hashed by mosquitto_passwd
# ($7$ = PBKDF2-SHA512 with a random salt, the same hash the plugin checks); CLIENT_ID empty:
# any client id.
separator=""
client() {
    mosquitto_passwd -c -b "$hashes" "$1" "$2"
    # The line is user:$7$<iterations>$<salt>$<hash>, salt and hash in base64.
    iterations=$(cut -d'$' -f3 "$hashes")
    salt=$(cut -d'$' -f4 "$hashes")
    hash=$(cut -d'$' -f5 "$hashes")
    clientid=""
    if [ -n "$3" ]; then
        clientid="\"clientid\": \"$3\", "
    fi
    printf '%s\n    {"username": "%s", %s"password": "%s", "salt": "%s", "iterations": %s, "roles": [{"rolename": "%s"}]}' \
        "$separator" "$1" "$clientid" "$hash" "$salt" "$iterations" "$4" >> "$staged"
    separator=","
}

# roles: one role per "user" of the acl file, its "topic read|write|readwrite TOPIC" lines as
# the plugin's rules: read = subscribe (also shared) and receive, write = publish.
roles() {
    open=""
    while read -r word access topic; do
        case "$word" in
            user)
                printf '%s%s\n    {"rolename": "%s", "acls": [' "$open" "$separator" "$access" >> "$staged"
                open="]}"
                separator=","
                comma="" ;;
            topic)
                if [ -z "$open" ] || [ -z "$topic" ]; then
                    echo "$acl_file: a topic line outside a user section or without a topic" >&2
                    exit 2
                fi
                case "$access" in
                    read|write|readwrite) ;;
                    *) echo "$acl_file: unknown access '$access'" >&2; exit 2 ;;
                esac
                case "$access" in
                    read|readwrite)
                        # The plugin sees a shared subscription with its $share/<group>/ prefix.
                        printf '%s{"acltype": "subscribePattern", "topic": "%s", "allow": true}, {"acltype": "subscribePattern", "topic": "$share/+/%s", "allow": true}, {"acltype": "publishClientReceive", "topic": "%s", "allow": true}' \
                            "$comma" "$topic" "$topic" "$topic" >> "$staged"
                        comma=", " ;;
                esac
                case "$access" in
                    write|readwrite)
                        printf '%s{"acltype": "publishClientSend", "topic": "%s", "allow": true}' \
                            "$comma" "$topic" >> "$staged"
                        comma=", " ;;
                esac ;;
            ''|'#'*) ;;
            *) echo "$acl_file: unknown line '$word'" >&2; exit 2 ;;
        esac
    done < "$acl_file"
    printf '%s' "$open" >> "$staged"
}

# Nothing is allowed that a role does not list (as with an acl_file).
printf '{\n  "defaultACLAccess": {"publishClientSend": false, "publishClientReceive": false, "subscribe": false, "unsubscribe": true},\n  "clients": [' > "$staged"
# Bauhof's rules, API and health checks: short clean-start connections, several at once, each
# with a random id, so this one account is not bound to an id (docs/security.md).
client bauhof "$MQTT_BAUHOF_PASSWORD" "" bauhof
# Ingest: each worker its own account ingest-N and client id ingest-N (BAUHOF_MQTT_CLIENT_ID).
n=1
while [ "$n" -le "$ingest_workers" ]; do
    client "ingest-$n" "$MQTT_BAUHOF_PASSWORD" "ingest-$n" bauhof
    n=$((n + 1))
done
# ChirpStack connects twice: its MQTT integration and its eu868 gateway backend
# (deploy/chirpstack/config/*.toml name these accounts and ids).
client chirpstack "$MQTT_CHIRPSTACK_PASSWORD" chirpstack-integration chirpstack
client chirpstack-gw "$MQTT_CHIRPSTACK_PASSWORD" chirpstack-gw-eu868 chirpstack
client gateway-bridge "$MQTT_GATEWAY_BRIDGE_PASSWORD" chirpstack-gateway-bridge gateway-bridge
if [ -n "${MQTT_SIMULATOR_PASSWORD:-}" ]; then
    client simulator "$MQTT_SIMULATOR_PASSWORD" bauhof-simulator simulator
fi
rm -f "$hashes"
printf '\n  ],\n  "groups": [],\n  "roles": [' >> "$staged"
separator=""
roles
printf '\n  ]\n}\n' >> "$staged"

# The broker reads (and on changes rewrites) the file after dropping root for `mosquitto`.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    chown mosquitto:mosquitto "$staged"
fi
mv -f "$staged" "$dynsec_file"

# Hand over to the image's own entrypoint (it fixes the ownership of /mosquitto) when there is one.
if [ -x /docker-entrypoint.sh ]; then
    exec /docker-entrypoint.sh "$@"
fi
exec "$@"
