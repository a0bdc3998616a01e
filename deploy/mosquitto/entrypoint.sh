#!/bin/sh
# Writes Mosquitto's password file from the secrets in the environment, then starts the broker.
# It runs at every start, so .env stays the one place the passwords live: to change one, edit
# .env and recreate the container (`docker compose up -d mosquitto`).
set -eu

passwd_file="${MOSQUITTO_PASSWORD_FILE:-/mosquitto/auth/passwd}"
: "${MQTT_BAUHOF_PASSWORD:?set MQTT_BAUHOF_PASSWORD in .env}"
: "${MQTT_CHIRPSTACK_PASSWORD:?set MQTT_CHIRPSTACK_PASSWORD in .env}"
: "${MQTT_GATEWAY_BRIDGE_PASSWORD:?set MQTT_GATEWAY_BRIDGE_PASSWORD in .env}"

umask 077
mkdir -p "$(dirname "$passwd_file")"
staged="$passwd_file.new"
rm -f "$staged"
mosquitto_passwd -c -b "$staged" bauhof "$MQTT_BAUHOF_PASSWORD"
mosquitto_passwd -b "$staged" chirpstack "$MQTT_CHIRPSTACK_PASSWORD"
mosquitto_passwd -b "$staged" gateway-bridge "$MQTT_GATEWAY_BRIDGE_PASSWORD"
if [ -n "${MQTT_SIMULATOR_PASSWORD:-}" ]; then
    mosquitto_passwd -b "$staged" simulator "$MQTT_SIMULATOR_PASSWORD"
fi
# The broker reads the file after dropping root for its `mosquitto` account.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    chown mosquitto:mosquitto "$staged"
fi
mv -f "$staged" "$passwd_file"

# Hand over to the image's own entrypoint (it fixes the ownership of /mosquitto) when there is one.
if [ -x /docker-entrypoint.sh ]; then
    exec /docker-entrypoint.sh "$@"
fi
exec "$@"
