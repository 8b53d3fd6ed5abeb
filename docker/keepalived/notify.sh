#!/bin/sh
# keepalived notify hook (generated): one line per VRRP state change of this node.
# Arguments: NODE TYPE NAME STATE PRIORITY
echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) node=$1 type=$2 name=$3 state=$4 priority=$5" >> "/tmp/notify.log"
