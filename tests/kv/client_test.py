#!/usr/bin/env python3
"""Drives a Redis-protocol server with redis-py over every command kv_server
implements; run by tests/kv/process_test.cpp, and by hand against
redis-server to check that both answer alike:

    client_test.py PORT

Exits 0 and prints "ok N checks" when every answer was Redis's; otherwise
prints the first mismatch and exits 1. Waits for expiry with deadlines
(never fixed sleeps): a busy machine only makes it slower.
"""
import sys
import threading
import time

import redis

port = int(sys.argv[1])
checks = 0


def check(got, want, what):
    global checks
    checks += 1
    if got != want:
        print(f"FAIL {what}: got {got!r}, want {want!r}")
        sys.exit(1)


def check_error(fn, prefix, what):
    global checks
    checks += 1
    try:
        fn()
    except redis.ResponseError as e:
        if not str(e).startswith(prefix):
            print(f"FAIL {what}: error {str(e)!r}, want one starting {prefix!r}")
            sys.exit(1)
        return
    print(f"FAIL {what}: no error, want {prefix!r}")
    sys.exit(1)


def wait_until(cond, what, limit=20.0):
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            print(f"FAIL {what}: not within {limit} s")
            sys.exit(1)
        time.sleep(0.01)
    check(True, True, what)


r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
r.flushall()

# Connection and server
check(r.ping(), True, "PING")
check(r.echo("hi there"), "hi there", "ECHO")
check(r.execute_command("SELECT", 0), True, "SELECT 0")
check(r.client_setname("tester"), True, "CLIENT SETNAME")
check(r.client_getname(), "tester", "CLIENT GETNAME")
check(r.config_get("save"), {"save": ""}, "CONFIG GET save")
check(r.config_get("appendonly"), {"appendonly": "no"}, "CONFIG GET appendonly")
check("redis_version" in r.info("server"), True, "INFO server")

# Strings
check(r.set("s", "v"), True, "SET")
check(r.get("s"), "v", "GET")
check(r.get("missing"), None, "GET missing")
check(r.set("s", "w", nx=True), None, "SET NX on an existing key")
check(r.set("new", "w", xx=True), None, "SET XX on a missing key")
check(r.set("s", "x", xx=True), True, "SET XX")
check(r.set("s", "y", get=True), "x", "SET GET")
check(r.getset("s", "z"), "y", "GETSET")
check(r.append("s", "zz"), 3, "APPEND")
check(r.strlen("s"), 3, "STRLEN")
check(r.incr("n"), 1, "INCR")
check(r.incrby("n", 41), 42, "INCRBY")
check(r.decr("n"), 41, "DECR")
check(r.decrby("n", 40), 1, "DECRBY")
check(r.mset({"a": "1", "b": "2"}), True, "MSET")
check(r.mget("a", "b", "nope"), ["1", "2", None], "MGET")
check(r.delete("a", "b", "nope"), 2, "DEL")
check(r.exists("s", "n", "a"), 2, "EXISTS")
check_error(lambda: r.incr("s"), "value is not an integer", "INCR on a non-number")

# Expiry
check(r.set("t", "v", ex=100), True, "SET EX")
check(0 < r.ttl("t") <= 100, True, "TTL")
check(0 < r.pttl("t") <= 100000, True, "PTTL")
check(r.persist("t"), True, "PERSIST")
check(r.ttl("t"), -1, "TTL without expiry")
check(r.ttl("nope"), -2, "TTL of a missing key")
check(r.expire("t", 100), True, "EXPIRE")
check(r.pexpire("t", 100000), True, "PEXPIRE")
check(r.set("lazy", "v", px=50), True, "SET PX")
wait_until(lambda: r.get("lazy") is None, "a key with PX 50 expires")
for i in range(50):
    r.set(f"active:{i}", "v", px=20)
before = int(r.info("stats")["expired_keys"])
# Never read again: only the active cycle can remove them.
wait_until(lambda: int(r.info("stats")["expired_keys"]) >= before + 50, "active expiry removes unread keys")
check(r.keys("active:*"), [], "expired keys are not listed")

# Lists
check(r.rpush("l", "a", "b"), 2, "RPUSH")
check(r.lpush("l", "z"), 3, "LPUSH")
check(r.lrange("l", 0, -1), ["z", "a", "b"], "LRANGE")
check(r.lindex("l", -1), "b", "LINDEX")
check(r.llen("l"), 3, "LLEN")
check(r.lpop("l"), "z", "LPOP")
check(r.rpop("l"), "b", "RPOP")
check(r.lpop("l", 5), ["a"], "LPOP count")
check(r.exists("l"), 0, "an emptied list is gone")

# Sets
check(r.sadd("set", "x", "y", "z"), 3, "SADD")
check(r.srem("set", "z", "nope"), 1, "SREM")
check(sorted(r.smembers("set")), ["x", "y"], "SMEMBERS")
check(r.sismember("set", "x"), True, "SISMEMBER")
check(r.scard("set"), 2, "SCARD")
check(r.spop("set") in ("x", "y"), True, "SPOP")
check(r.scard("set"), 1, "SCARD after SPOP")

# Hashes
check(r.hset("h", mapping={"f": "1", "g": "2"}), 2, "HSET")
check(r.hget("h", "f"), "1", "HGET")
check(r.hincrby("h", "f", 9), 10, "HINCRBY")
check(r.hgetall("h"), {"f": "10", "g": "2"}, "HGETALL")
check(r.hlen("h"), 2, "HLEN")
check(r.hdel("h", "g"), 1, "HDEL")

# Sorted sets
check(r.zadd("z", {"a": 1, "b": 2.5, "c": -1}), 3, "ZADD")
check(r.zrange("z", 0, -1, withscores=True), [("c", -1.0), ("a", 1.0), ("b", 2.5)], "ZRANGE WITHSCORES")
check(r.zscore("z", "b"), 2.5, "ZSCORE")
check(r.zcard("z"), 3, "ZCARD")
check(r.zpopmin("z"), [("c", -1.0)], "ZPOPMIN")

# Keys
check(r.type("h"), "hash", "TYPE")
check(r.type("z"), "zset", "TYPE zset")
check(r.type("nope"), "none", "TYPE of a missing key")
check_error(lambda: r.get("h"), "WRONGTYPE Operation against a key holding the wrong kind of value", "GET on a hash")
check_error(lambda: r.lpush("h", "x"), "WRONGTYPE", "LPUSH on a hash")
for i in range(300):
    r.set(f"scan:{i}", i)
check(sorted(r.keys("scan:1?")), sorted(f"scan:{i}" for i in range(10, 20)), "KEYS pattern")
check(len(set(r.scan_iter(match="scan:*"))), 300, "SCAN visits every key once")
check(r.dbsize(), len(r.keys("*")), "DBSIZE")
check_error(lambda: r.execute_command("NOSUCH", "a"), "unknown command 'NOSUCH', with args beginning with: 'a'",
            "unknown command")
check_error(lambda: r.execute_command("GET"), "wrong number of arguments for 'get' command", "arity")

# Pipelining: every answer, in order
p = r.pipeline(transaction=False)
for i in range(1000):
    p.incr("piped")
check(p.execute(), list(range(1, 1001)), "1000 pipelined INCR")

# Pub/sub across connections
sub = redis.Redis(host="127.0.0.1", port=port, decode_responses=True).pubsub()
sub.subscribe("news")
sub.psubscribe("sport.*")
got = []
for _ in range(2):
    got.append(sub.get_message(timeout=10)["type"])
check(got, ["subscribe", "psubscribe"], "subscription confirmations")
check(r.publish("news", "hello"), 1, "PUBLISH to a channel")
check(r.publish("sport.tennis", "ace"), 1, "PUBLISH to a pattern")
check(r.publish("nobody", "x"), 0, "PUBLISH with no subscriber")
m = sub.get_message(timeout=10)
check((m["type"], m["channel"], m["data"]), ("message", "news", "hello"), "message received")
m = sub.get_message(timeout=10)
check((m["type"], m["pattern"], m["channel"], m["data"]), ("pmessage", "sport.*", "sport.tennis", "ace"),
      "pmessage received")
sub.unsubscribe("news")
m = sub.get_message(timeout=10)
check((m["type"], m["channel"]), ("unsubscribe", "news"), "UNSUBSCRIBE confirmation")
sub.punsubscribe("sport.*")
m = sub.get_message(timeout=10)
check((m["type"], m["channel"]), ("punsubscribe", "sport.*"), "PUNSUBSCRIBE confirmation")
check(r.publish("sport.golf", "x"), 0, "no subscriber after PUNSUBSCRIBE")
check(r.publish("news", "again"), 0, "no subscriber after UNSUBSCRIBE")
sub.close()


# Many publishers and one subscriber: every message arrives, in order per publisher.
sub = redis.Redis(host="127.0.0.1", port=port, decode_responses=True).pubsub()
sub.subscribe("fan")
check(sub.get_message(timeout=10)["type"], "subscribe", "fan-in subscription")


def publisher(k):
    c = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    for i in range(200):
        c.publish("fan", f"{k}:{i}")


threads = [threading.Thread(target=publisher, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
seen = {k: [] for k in range(4)}
for _ in range(800):
    m = sub.get_message(timeout=20)
    if m is None:
        print("FAIL fan-in: a message is missing")
        sys.exit(1)
    k, i = m["data"].split(":")
    seen[int(k)].append(int(i))
for t in threads:
    t.join()
check(all(seen[k] == list(range(200)) for k in range(4)), True, "fan-in: all 800 messages, in order per publisher")
sub.close()

# Introspection as redis-cli and client libraries use it
check(r.command_count() >= 60, True, "COMMAND COUNT")
docs = r.execute_command("COMMAND DOCS", "get")
check(docs[0], "get", "COMMAND DOCS names the command")
check(dict(zip(docs[1][::2], docs[1][1::2]))["group"], "string", "COMMAND DOCS group")
info = r.execute_command("COMMAND INFO", "get")
check((info[0][0], info[0][1], info[0][3]), ("get", 2, 1), "COMMAND INFO name, arity, first key")
check(len(r.execute_command("COMMAND")), r.command_count(), "COMMAND lists every command")
r.set("only-string", "v")
r.rpush("only-list", "v")
check(list(r.scan_iter(match="only-*", _type="list")), ["only-list"], "SCAN TYPE")

# QUIT: answered, then the connection is closed
q = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
conn = q.connection_pool.get_connection("QUIT")
conn.send_command("QUIT")
check(conn.read_response(), "OK", "QUIT answers OK")
try:
    conn.send_command("PING")
    conn.read_response()
    closed = False
except (redis.ConnectionError, OSError):
    closed = True
check(closed, True, "QUIT closes the connection")

check(r.flushdb(), True, "FLUSHDB")
check(r.dbsize(), 0, "DBSIZE after FLUSHDB")
print(f"ok {checks} checks")
