#!/bin/bash
# Health check with the official image's name and contract (exit 0 when the broker answers), without
# a JVM: one raw Metadata v4 request over bash's /dev/tcp; ok when the answer lists a broker.
server=localhost:9092
while (($#)); do
  case $1 in --bootstrap-server) server=$2; shift 2 ;; *) shift ;; esac
done
host=${server%:*}
port=${server##*:}
read -ra b <<<"$(
  exec 2>/dev/null 3<>"/dev/tcp/$host/$port" || exit 0
  printf '\x00\x00\x00\x12\x00\x03\x00\x04\x00\x00\x00\x07\x00\x03mpb\xff\xff\xff\xff\x00' >&3
  timeout 3 head -c 16 <&3 | od -An -v -tx1 | tr '\n' ' '
)"
[[ ${#b[@]} -eq 16 && ${b[*]:4:4} == "00 00 00 07" && ${b[*]:12:4} != "00 00 00 00" ]]
