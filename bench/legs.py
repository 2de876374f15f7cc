#!/usr/bin/env python3
"""Splits one-at-a-time requests through a proxy into legs, from a loopback packet capture.

    bench/profile.sh --warmup 30 --duration 20 --connections 1 --no-jfr --out /tmp/lat &
    # once its measured run is on (the ports are in /tmp/lat/tollgate.log and mock.log):
    timeout 3 tcpdump -i lo -tt -n -l 'tcp port PROXY or tcp port MOCK or tcp port 6379' > cap.txt
    bench/legs.py cap.txt PROXY MOCK 6379

Every segment with a payload is an event: client -> proxy, proxy -> Redis, Redis -> proxy,
proxy -> mock, mock -> proxy, proxy -> client; a request is the first of each from one
client -> proxy to the next. With one connection and one request at a time, the medians give
where a request's time goes, the proxy's wake-ups included (a relay without Redis: give any
unused port for it).
"""
import re
import statistics
import sys


def main():
    capture, proxy, mock, redis = sys.argv[1:5]
    line_re = re.compile(r'^(\d+\.\d+) IP6? \S+?\.(\d+) > \S+?\.(\d+): .* length (\d+)')
    events = []
    for line in open(capture):
        m = line_re.match(line)
        if not m or int(m.group(4)) == 0:
            continue
        t, sport, dport = float(m.group(1)), m.group(2), m.group(3)
        kind = {dport == proxy: 'c>p', sport == proxy: 'p>c', dport == redis: 'p>r',
                sport == redis: 'r>p', dport == mock: 'p>m', sport == mock: 'm>p'}.get(True)
        if kind:
            events.append((t, kind))
    requests, current = [], None
    for t, kind in events:
        if kind == 'c>p' and (current is None or 'p>c' in current):
            if current is not None:
                requests.append(current)
            current = {'c>p': t}
        elif current is not None and kind not in current:
            current[kind] = t
    if current is not None and 'p>c' in current:
        requests.append(current)
    legs = [('c>p', 'p>r', 'request in -> Redis call'), ('p>r', 'r>p', 'Redis round trip'),
            ('r>p', 'p>m', 'Redis answer -> upstream write'), ('c>p', 'p>m', 'request in -> upstream write'),
            ('p>m', 'm>p', 'upstream'), ('m>p', 'p>c', 'answer in -> client write'),
            ('c>p', 'p>c', 'request in -> answer out')]
    print(f'{len(requests)} requests')
    for a, b, name in legs:
        d = sorted((r[b] - r[a]) * 1e6 for r in requests if a in r and b in r)
        if d:
            print(f'{name:32} median {statistics.median(d):7.1f} us  p90 {d[int(len(d) * 0.9)]:7.1f} us')


if __name__ == '__main__':
    main()
