#!/usr/bin/env python3
"""Writes the Kafka-derived assignor cases under tests/data/assign/<strategy>/.

Each case restates one assertion of an apache/kafka assignor test (named in `kafka_test`):
the input as Kafka's test builds it and the assignment Kafka's test asserts. Members are listed
in the order the Java test puts them into its map. Rerun after editing: python3 generate.py
"""
import base64
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_RACKS = ["a", "b", "c", "d", "e", "f", "g"]


def tps(text):
    """'t1-0, t2-3' -> [["t1", 0], ["t2", 3]]"""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        topic, p = item.rsplit("-", 1)
        out.append([topic, int(p)])
    return sorted(out)


def member(mid, topics, owned=None, generation=None, instance=None, rack=None):
    m = {"id": mid, "subscriptions": topics}
    if owned is not None:
        m["owned"] = owned
    if generation is not None:
        m["generation"] = generation
    if instance is not None:
        m["group_instance_id"] = instance
    if rack is not None:
        m["rack"] = rack
    return m


def rack_layout(topics, replication_factor, broker_racks):
    """AbstractPartitionAssignorTest.partitionsPerTopic: replica j of partition i of the k-th
    topic sits on broker (i + j + first index of topic k) % brokers."""
    racks = {}
    next_index = 0
    for topic, n in topics.items():
        per_partition = []
        for i in range(n):
            rs = []
            for j in range(replication_factor):
                r = broker_racks[(i + j + next_index) % len(broker_racks)]
                if r is not None:
                    rs.append(r)
            per_partition.append(rs)
        racks[topic] = per_partition
        next_index += n
    return racks


def racks(n):
    return [ALL_RACKS[i % len(ALL_RACKS)] for i in range(n)]


def null_racks(n):
    return [None] * n


def rack_case(name, topics, rf, broker_racks, consumer_racks, consumer_topics, expected, owned=None):
    """AbstractPartitionAssignorTest.verifyRackAssignment: consumers consumer0..N-1."""
    members = []
    for i, ts in enumerate(consumer_topics):
        o = tps(owned[i]) if owned and i < len(owned) else None
        members.append(member("consumer%d" % i, ts, owned=o, generation=-1 if o is not None else None,
                              rack=consumer_racks[i]))
    inp = {"topics": topics, "members": members,
           "partition_racks": rack_layout(topics, rf, broker_racks)}
    return {"kafka_test": name, "input": inp,
            "expected": {"consumer%d" % i: tps(e) for i, e in enumerate(expected)}}


CASES = {}


def case(strategy, slug, kafka_test, inp, expected, note=None):
    c = {"kafka_test": kafka_test, "input": inp, "expected": expected}
    if note:
        c["note"] = note
    CASES.setdefault(strategy, []).append((slug, c))


def add(strategy, slug, c):
    CASES.setdefault(strategy, []).append((slug, c))


def write():
    for strategy, cases in CASES.items():
        d = os.path.join(HERE, strategy)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.endswith(".json"):
                os.remove(os.path.join(d, f))
        for slug, c in cases:
            with open(os.path.join(d, slug + ".json"), "w") as fh:
                json.dump(c, fh, indent=1)
                fh.write("\n")


# ---------------------------------------------------------------------------------------------
# range (clients/src/test/java/org/apache/kafka/clients/consumer/RangeAssignorTest.java)
R = "RangeAssignorTest."
case("range", "one_consumer_no_topic", R + "testOneConsumerNoTopic",
     {"topics": {}, "members": [member("consumer1", [])]}, {"consumer1": []})
case("range", "one_consumer_nonexistent_topic", R + "testOneConsumerNonexistentTopic",
     {"topics": {}, "members": [member("consumer1", ["topic1"])]}, {"consumer1": []})
case("range", "one_consumer_one_topic", R + "testOneConsumerOneTopic",
     {"topics": {"topic1": 3}, "members": [member("consumer1", ["topic1"])]},
     {"consumer1": tps("topic1-0, topic1-1, topic1-2")})
case("range", "only_subscribed_topics", R + "testOnlyAssignsPartitionsFromSubscribedTopics",
     {"topics": {"topic1": 3, "other": 3}, "members": [member("consumer1", ["topic1"])]},
     {"consumer1": tps("topic1-0, topic1-1, topic1-2")})
case("range", "one_consumer_multiple_topics", R + "testOneConsumerMultipleTopics",
     {"topics": {"topic1": 1, "topic2": 2}, "members": [member("consumer1", ["topic1", "topic2"])]},
     {"consumer1": tps("topic1-0, topic2-0, topic2-1")})
case("range", "two_consumers_one_partition", R + "testTwoConsumersOneTopicOnePartition",
     {"topics": {"topic1": 1}, "members": [member("consumer1", ["topic1"]), member("consumer2", ["topic1"])]},
     {"consumer1": tps("topic1-0"), "consumer2": []})
case("range", "two_consumers_two_partitions", R + "testTwoConsumersOneTopicTwoPartitions",
     {"topics": {"topic1": 2}, "members": [member("consumer1", ["topic1"]), member("consumer2", ["topic1"])]},
     {"consumer1": tps("topic1-0"), "consumer2": tps("topic1-1")})
case("range", "mixed_topics", R + "testMultipleConsumersMixedTopics",
     {"topics": {"topic1": 3, "topic2": 2},
      "members": [member("consumer1", ["topic1"]), member("consumer2", ["topic1", "topic2"]),
                  member("consumer3", ["topic1"])]},
     {"consumer1": tps("topic1-0"), "consumer2": tps("topic1-1, topic2-0, topic2-1"),
      "consumer3": tps("topic1-2")})
case("range", "two_consumers_six_partitions", R + "testTwoConsumersTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer1", ["topic1", "topic2"]), member("consumer2", ["topic1", "topic2"])]},
     {"consumer1": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "consumer2": tps("topic1-2, topic2-2")})
case("range", "two_static_consumers", R + "testTwoStaticConsumersTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer-b", ["topic1", "topic2"], instance="instance1"),
                  member("consumer-a", ["topic1", "topic2"], instance="instance2")]},
     {"consumer-b": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "consumer-a": tps("topic1-2, topic2-2")})
case("range", "static_before_dynamic", R + "testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer-b", ["topic1", "topic2"], instance="instance1"),
                  member("consumer-a", ["topic1", "topic2"])]},
     {"consumer-b": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "consumer-a": tps("topic1-2, topic2-2")})
STATIC3 = [("consumer1", "instance1"), ("consumer2", "instance2"), ("consumer3", "instance3")]
for rnd, dyn in [(1, "consumer4"), (2, "consumer5")]:
    case("range", "static_persistent_round%d" % rnd, R + "testStaticMemberRangeAssignmentPersistent",
         {"topics": {"topic1": 5, "topic2": 4},
          "members": [member(m, ["topic1", "topic2"], instance=i) for m, i in STATIC3]
          + [member(dyn, ["topic1", "topic2"])]},
         {"consumer1": tps("topic1-0, topic1-1, topic2-0"), "consumer2": tps("topic1-2, topic2-1"),
          "consumer3": tps("topic1-3, topic2-2"), dyn: tps("topic1-4, topic2-3")})
case("range", "static_after_member_id_change_round1", R + "testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges",
     {"topics": {"topic1": 5, "topic2": 5},
      "members": [member(m, ["topic1", "topic2"], instance=i) for m, i in STATIC3]},
     {"consumer1": tps("topic1-0, topic1-1, topic2-0, topic2-1"),
      "consumer2": tps("topic1-2, topic1-3, topic2-2, topic2-3"), "consumer3": tps("topic1-4, topic2-4")})
case("range", "static_after_member_id_change_round2", R + "testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges",
     {"topics": {"topic1": 5, "topic2": 5},
      "members": [member("consumer1", ["topic1", "topic2"], instance="instance1"),
                  member("consumer4", ["topic1", "topic2"], instance="instance3"),
                  member("consumer5", ["topic1", "topic2"], instance="instance2")]},
     {"consumer1": tps("topic1-0, topic1-1, topic2-0, topic2-1"),
      "consumer5": tps("topic1-2, topic1-3, topic2-2, topic2-3"), "consumer4": tps("topic1-4, topic2-4")})


def non_rack_aware_variants(name, topics, consumer_topics, expected):
    """RangeAssignorTest.verifyNonRackAwareAssignment, minus its preferRackAwareLogic call."""
    variants = [(3, null_racks(3), racks(3)), (3, racks(3), null_racks(3)), (3, racks(3), racks(3)),
                (4, racks(4), racks(3)), (3, racks(3), ["d", "e", "f"]), (3, racks(3), [None, "e", "f"])]
    return [rack_case(name, topics, rf, b, c, consumer_topics, expected) for rf, b, c in variants]


def range_rack_test(slug, name, topics, consumer_topics, non_rack, calls):
    for k, c in enumerate(non_rack_aware_variants(R + name, topics, consumer_topics, non_rack)):
        add("range", "%s_nonrack%d" % (slug, k), c)
    for k, (rf, b, c, exp) in enumerate(calls):
        add("range", "%s_rack%d" % (slug, k), rack_case(R + name, topics, rf, b, c, consumer_topics, exp))


ALL3 = ["t1", "t2", "t3"]
range_rack_test("rack_uniform_subscription", "testRackAwareAssignmentWithUniformSubscription",
                {"t1": 6, "t2": 7, "t3": 2}, [ALL3, ALL3, ALL3],
                ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"],
                [(1, racks(3), racks(3), ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"]),
                 (2, racks(3), racks(3), ["t1-0, t1-2, t2-0, t2-2, t2-3, t3-1", "t1-1, t1-3, t2-1, t2-4, t3-0", "t1-4, t1-5, t2-5, t2-6"]),
                 (3, racks(2), racks(3), ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"])])
range_rack_test("rack_non_equal_subscription", "testRackAwareAssignmentWithNonEqualSubscription",
                {"t1": 6, "t2": 7, "t3": 2}, [ALL3, ALL3, ["t1", "t3"]],
                ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"],
                [(1, racks(3), racks(3), ["t1-0, t1-3, t2-0, t2-2, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t2-5, t3-0", "t1-2, t1-5, t3-1"]),
                 (2, racks(3), racks(3), ["t1-0, t1-2, t2-0, t2-2, t2-3, t2-5, t3-1", "t1-1, t1-3, t2-1, t2-4, t2-6, t3-0", "t1-4, t1-5"]),
                 (3, racks(2), racks(3), ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"])])
UP = ["t1-0, t1-1, t2-0, t2-1, t3-0, t3-1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3", "t1-4, t2-4, t3-4"]
range_rack_test("rack_uniform_partitions", "testRackAwareAssignmentWithUniformPartitions",
                {"t1": 5, "t2": 5, "t3": 5}, [ALL3, ALL3, ALL3], UP,
                [(1, racks(3), racks(3), UP), (2, racks(3), racks(3), UP), (3, racks(2), racks(3), UP)])
range_rack_test("rack_uniform_partitions_non_equal", "testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription",
                {"t1": 5, "t2": 5, "t3": 5}, [ALL3, ALL3, ["t1", "t3"]],
                ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"],
                [(1, racks(3), racks(3), ["t1-0, t1-1, t2-0, t2-1, t2-4, t3-0, t3-1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3", "t1-4, t3-4"]),
                 (2, racks(3), racks(3), ["t1-2, t2-0, t2-1, t2-3, t3-2", "t1-0, t1-3, t2-2, t2-4, t3-0, t3-3", "t1-1, t1-4, t3-1, t3-4"]),
                 (3, racks(2), racks(3), ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"])])
CO = {"t1": 6, "t2": 6, "t3": 2, "t4": 2}
CO_RACKS = ["a", "b", "b", "a"]
CO_TOPICS = [["t1", "t2"], ["t1", "t2"], ["t3", "t4"], ["t3", "t4"]]
CO_NON = ["t1-0, t1-1, t1-2, t2-0, t2-1, t2-2", "t1-3, t1-4, t1-5, t2-3, t2-4, t2-5", "t3-0, t4-0", "t3-1, t4-1"]
ALL4 = ["t1", "t2", "t3", "t4"]
CO_NON4 = ["t1-0, t1-1, t2-0, t2-1, t3-0, t4-0", "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1", "t1-4, t2-4", "t1-5, t2-5"]
for k, (rf, b, ts, exp) in enumerate([
        (3, racks(2), CO_TOPICS, CO_NON), (2, racks(2), CO_TOPICS, CO_NON),
        (1, racks(2), CO_TOPICS, ["t1-0, t1-2, t1-4, t2-0, t2-2, t2-4", "t1-1, t1-3, t1-5, t2-1, t2-3, t2-5", "t3-1, t4-1", "t3-0, t4-0"]),
        (3, racks(2), [ALL4] * 4, CO_NON4), (2, racks(2), [ALL4] * 4, CO_NON4),
        (1, racks(2), [ALL4] * 4, ["t1-0, t1-2, t2-0, t2-2, t3-0, t4-0", "t1-1, t1-3, t2-1, t2-3, t3-1, t4-1", "t1-5, t2-5", "t1-4, t2-4"]),
        (1, racks(3), [ALL4] * 4, ["t1-0, t1-3, t2-0, t2-3, t3-0, t4-0", "t1-1, t1-4, t2-1, t2-4, t3-1, t4-1", "t1-2, t2-2", "t1-5, t2-5"])]):
    add("range", "rack_co_partitioning_%d" % k,
        rack_case(R + "testRackAwareAssignmentWithCoPartitioning", CO, rf, b, CO_RACKS, ts, exp))
add("range", "co_partitioned_same_subscription",
    rack_case(R + "testCoPartitionedAssignmentWithSameSubscription",
              {"t1": 6, "t2": 6, "t3": 2, "t4": 2, "t5": 4, "t6": 4}, 3, null_racks(3), racks(3),
              [["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]] * 3,
              ["t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
               "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2", "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3"]))

# ---------------------------------------------------------------------------------------------
# roundrobin (clients/src/test/java/org/apache/kafka/clients/consumer/RoundRobinAssignorTest.java)
RR = "RoundRobinAssignorTest."
T12 = ["topic1", "topic2"]
case("roundrobin", "one_consumer_no_topic", RR + "testOneConsumerNoTopic",
     {"topics": {}, "members": [member("consumer", [])]}, {"consumer": []})
case("roundrobin", "one_consumer_nonexistent_topic", RR + "testOneConsumerNonexistentTopic",
     {"topics": {}, "members": [member("consumer", ["topic"])]}, {"consumer": []})
case("roundrobin", "one_consumer_one_topic", RR + "testOneConsumerOneTopic",
     {"topics": {"topic": 3}, "members": [member("consumer", ["topic"])]},
     {"consumer": tps("topic-0, topic-1, topic-2")})
case("roundrobin", "only_subscribed_topics", RR + "testOnlyAssignsPartitionsFromSubscribedTopics",
     {"topics": {"topic": 3, "other": 3}, "members": [member("consumer", ["topic"])]},
     {"consumer": tps("topic-0, topic-1, topic-2")})
case("roundrobin", "one_consumer_multiple_topics", RR + "testOneConsumerMultipleTopics",
     {"topics": {"topic1": 1, "topic2": 2}, "members": [member("consumer", T12)]},
     {"consumer": tps("topic1-0, topic2-0, topic2-1")})
case("roundrobin", "two_consumers_one_partition", RR + "testTwoConsumersOneTopicOnePartition",
     {"topics": {"topic": 1}, "members": [member("consumer1", ["topic"]), member("consumer2", ["topic"])]},
     {"consumer1": tps("topic-0"), "consumer2": []})
case("roundrobin", "two_consumers_two_partitions", RR + "testTwoConsumersOneTopicTwoPartitions",
     {"topics": {"topic": 2}, "members": [member("consumer1", ["topic"]), member("consumer2", ["topic"])]},
     {"consumer1": tps("topic-0"), "consumer2": tps("topic-1")})
case("roundrobin", "mixed_topics", RR + "testMultipleConsumersMixedTopics",
     {"topics": {"topic1": 3, "topic2": 2},
      "members": [member("consumer1", ["topic1"]), member("consumer2", T12), member("consumer3", ["topic1"])]},
     {"consumer1": tps("topic1-0"), "consumer2": tps("topic1-1, topic2-0, topic2-1"), "consumer3": tps("topic1-2")})
case("roundrobin", "two_dynamic_six_partitions", RR + "testTwoDynamicConsumersTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3}, "members": [member("consumer1", T12), member("consumer2", T12)]},
     {"consumer1": tps("topic1-0, topic1-2, topic2-1"), "consumer2": tps("topic1-1, topic2-0, topic2-2")})
case("roundrobin", "two_static_six_partitions", RR + "testTwoStaticConsumersTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer-b", T12, instance="instance1"), member("consumer-a", T12, instance="instance2")]},
     {"consumer-b": tps("topic1-0, topic1-2, topic2-1"), "consumer-a": tps("topic1-1, topic2-0, topic2-2")})
case("roundrobin", "static_before_dynamic", RR + "testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer-b", T12, instance="instance1"), member("consumer-a", T12)]},
     {"consumer-b": tps("topic1-0, topic1-2, topic2-1"), "consumer-a": tps("topic1-1, topic2-0, topic2-2")})
for rnd, dyn in [(1, "consumer4"), (2, "consumer5")]:
    case("roundrobin", "static_persistent_round%d" % rnd, RR + "testStaticMemberAssignmentPersistent",
         {"topics": {"topic1": 3, "topic2": 3},
          "members": [member(m, T12, instance=i) for m, i in STATIC3] + [member(dyn, T12)]},
         {"consumer1": tps("topic1-0, topic2-1"), "consumer2": tps("topic1-1, topic2-2"),
          "consumer3": tps("topic1-2"), dyn: tps("topic2-0")})
case("roundrobin", "static_after_member_id_change_round1", RR + "testStaticMemberAssignmentPersistentAfterMemberIdChanges",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member(m, T12, instance=i) for m, i in STATIC3]},
     {"consumer1": tps("topic1-0, topic2-0"), "consumer2": tps("topic1-1, topic2-1"), "consumer3": tps("topic1-2, topic2-2")})
case("roundrobin", "static_after_member_id_change_round2", RR + "testStaticMemberAssignmentPersistentAfterMemberIdChanges",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("consumer4", T12, instance="instance1"), member("consumer5", T12, instance="instance2"),
                  member("consumer1", T12, instance="instance3")]},
     {"consumer4": tps("topic1-0, topic2-0"), "consumer5": tps("topic1-1, topic2-1"), "consumer1": tps("topic1-2, topic2-2")})

# ---------------------------------------------------------------------------------------------
# sticky and cooperative-sticky (clients/src/test/java/org/apache/kafka/clients/consumer/internals/
# AbstractStickyAssignorTest.java, run by StickyAssignorTest and CooperativeStickyAssignorTest).
# Members without `owned` use subscription(topics, i): no owned partitions, no generation.
A = "AbstractStickyAssignorTest."


def sticky_both(slug, name, inp, expected, transferring=None):
    """A case of the abstract test: the sticky assignor asserts `expected`; the cooperative one,
    which runs the same test, withholds the partitions the test asserts as transferring."""
    case("sticky", slug, "StickyAssignorTest (inherited " + A + name + ")", inp, expected)
    coop = {m: [tp for tp in tl if not (transferring and tp in transferring.get(m, []))]
            for m, tl in expected.items()}
    note = None
    if transferring:
        note = "expected = the sticky assertion minus the partitionsTransferringOwnership the same test asserts"
    case("cooperative-sticky", slug, "CooperativeStickyAssignorTest (inherited " + A + name + ")", inp, coop, note)


G = 1  # generationId of the abstract test
T12 = ["topic1", "topic2"]
sticky_both("one_consumer_no_topic", "testOneConsumerNoTopic",
            {"topics": {}, "members": [member("consumer", [])]}, {"consumer": []})
sticky_both("one_consumer_nonexistent_topic", "testOneConsumerNonexistentTopic",
            {"topics": {"topic": 0}, "members": [member("consumer", ["topic"])]}, {"consumer": []})
sticky_both("one_consumer_one_topic", "testOneConsumerOneTopic",
            {"topics": {"topic": 3}, "members": [member("consumer", ["topic"])]},
            {"consumer": tps("topic-0, topic-1, topic-2")})
sticky_both("only_subscribed_topics", "testOnlyAssignsPartitionsFromSubscribedTopics",
            {"topics": {"topic": 2},
             "members": [member("consumer", ["topic"], owned=tps("topic-0, topic-1, other-0, other-1"), generation=G)]},
            {"consumer": tps("topic-0, topic-1")})
sticky_both("one_consumer_multiple_topics", "testOneConsumerMultipleTopics",
            {"topics": {"topic1": 1, "topic2": 2}, "members": [member("consumer", T12)]},
            {"consumer": tps("topic1-0, topic2-0, topic2-1")})
sticky_both("two_consumers_two_partitions", "testTwoConsumersOneTopicTwoPartitions",
            {"topics": {"topic": 2}, "members": [member("consumer1", ["topic"]), member("consumer2", ["topic"])]},
            {"consumer1": tps("topic-0"), "consumer2": tps("topic-1")})
sticky_both("mixed_topic_subscriptions", "testMultipleConsumersMixedTopicSubscriptions",
            {"topics": {"topic1": 3, "topic2": 2},
             "members": [member("consumer1", ["topic1"]), member("consumer2", T12), member("consumer3", ["topic1"])]},
            {"consumer1": tps("topic1-0, topic1-2"), "consumer2": tps("topic2-0, topic2-1"), "consumer3": tps("topic1-1")})
sticky_both("two_consumers_six_partitions", "testTwoConsumersTwoTopicsSixPartitions",
            {"topics": {"topic1": 3, "topic2": 3}, "members": [member("consumer1", T12), member("consumer2", T12)]},
            {"consumer1": tps("topic1-0, topic1-2, topic2-1"), "consumer2": tps("topic1-1, topic2-0, topic2-2")})
sticky_both("owning_min_quota_expected_max", "testConsumerOwningMinQuotaExpectedMaxQuota",
            {"topics": {"topic1": 2, "topic2": 3},
             "members": [member("consumer1", T12, owned=tps("topic1-0, topic2-1"), generation=G),
                         member("consumer2", T12, owned=tps("topic1-1, topic2-2"), generation=G)]},
            {"consumer1": tps("topic1-0, topic2-0, topic2-1"), "consumer2": tps("topic1-1, topic2-2")})
sticky_both("max_quota_more_than_expected", "testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers",
            {"topics": {"topic1": 2, "topic2": 2},
             "members": [member("consumer1", T12, owned=tps("topic1-0, topic2-0"), generation=G),
                         member("consumer2", T12, owned=tps("topic1-1, topic2-1"), generation=G),
                         member("consumer3", T12, owned=[], generation=G)]},
            {"consumer1": tps("topic1-0"), "consumer2": tps("topic1-1, topic2-1"), "consumer3": tps("topic2-0")},
            transferring={"consumer3": tps("topic2-0")})
sticky_both("all_under_min_quota", "testAllConsumersAreUnderMinQuota",
            {"topics": {"topic1": 2, "topic2": 3},
             "members": [member("consumer1", T12, owned=tps("topic1-0"), generation=G),
                         member("consumer2", T12, owned=tps("topic1-1"), generation=G),
                         member("consumer3", T12, owned=[], generation=G)]},
            {"consumer1": tps("topic1-0, topic2-1"), "consumer2": tps("topic1-1, topic2-2"), "consumer3": tps("topic2-0")})
sticky_both("add_remove_consumer_round1", "testAddRemoveConsumerOneTopic",
            {"topics": {"topic": 3}, "members": [member("consumer1", ["topic"])]},
            {"consumer1": tps("topic-0, topic-1, topic-2")})
sticky_both("add_remove_consumer_round2", "testAddRemoveConsumerOneTopic",
            {"topics": {"topic": 3},
             "members": [member("consumer1", ["topic"], owned=tps("topic-0, topic-1, topic-2"), generation=G),
                         member("consumer2", ["topic"], owned=[], generation=G)]},
            {"consumer1": tps("topic-0, topic-1"), "consumer2": tps("topic-2")},
            transferring={"consumer2": tps("topic-2")})
case("sticky", "add_remove_consumer_round3", "StickyAssignorTest (inherited " + A + "testAddRemoveConsumerOneTopic)",
     {"topics": {"topic": 3}, "members": [member("consumer2", ["topic"], owned=tps("topic-2"), generation=G)]},
     {"consumer2": tps("topic-0, topic-1, topic-2")})
sticky_both("add_remove_two_consumers_round1", "testAddRemoveTwoConsumersTwoTopics",
            {"topics": {"topic1": 3, "topic2": 4}, "members": [member("consumer1", T12), member("consumer2", T12)]},
            {"consumer1": tps("topic1-0, topic1-2, topic2-1, topic2-3"), "consumer2": tps("topic1-1, topic2-0, topic2-2")})
sticky_both("add_remove_two_consumers_round2", "testAddRemoveTwoConsumersTwoTopics",
            {"topics": {"topic1": 3, "topic2": 4},
             "members": [member("consumer1", T12, owned=tps("topic1-0, topic1-2, topic2-1, topic2-3"), generation=G),
                         member("consumer2", T12, owned=tps("topic1-1, topic2-0, topic2-2"), generation=G),
                         member("consumer3", T12, owned=[], generation=G),
                         member("consumer4", T12, owned=[], generation=G)]},
            {"consumer1": tps("topic1-0, topic1-2"), "consumer2": tps("topic1-1, topic2-0"),
             "consumer3": tps("topic2-1, topic2-3"), "consumer4": tps("topic2-2")},
            transferring={"consumer3": tps("topic2-1, topic2-3"), "consumer4": tps("topic2-2")})
case("sticky", "add_remove_two_consumers_round3", "StickyAssignorTest (inherited " + A + "testAddRemoveTwoConsumersTwoTopics)",
     {"topics": {"topic1": 3, "topic2": 4},
      "members": [member("consumer1", T12, owned=tps("topic1-0, topic1-2"), generation=G),
                  member("consumer2", T12, owned=tps("topic1-1, topic2-0"), generation=G),
                  member("consumer3", T12, owned=tps("topic2-1, topic2-3"), generation=G),
                  member("consumer4", T12, owned=tps("topic2-2"), generation=G)][2:]},
     {"consumer3": tps("topic2-1, topic2-3, topic1-0, topic2-0"), "consumer4": tps("topic2-2, topic1-1, topic1-2")})
sticky_both("all_reach_expected_quota", "testAllConsumersReachExpectedQuotaAndAreConsideredFilled",
            {"topics": {"topic": 4},
             "members": [member("consumer1", ["topic"], owned=tps("topic-0, topic-1"), generation=G),
                         member("consumer2", ["topic"], owned=tps("topic-2"), generation=G),
                         member("consumer3", ["topic"], owned=[], generation=G)]},
            {"consumer1": tps("topic-0, topic-1"), "consumer2": tps("topic-2"), "consumer3": tps("topic-3")})
TT2 = ["topic", "topic2"]
sticky_both("stale_generation_claims_lose", "testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration",
            {"topics": {"topic": 3, "topic2": 3},
             "members": [member("consumer1", TT2, owned=tps("topic-0, topic-2, topic2-1"), generation=10),
                         member("consumer2", TT2, owned=tps("topic-0, topic-2, topic2-1"), generation=9)]},
            {"consumer1": tps("topic-0, topic-2, topic2-1"), "consumer2": tps("topic-1, topic2-0, topic2-2")})
sticky_both("no_generation_claims_lose", "testOwnedPartitionsAreInvalidatedForConsumerWithNoGeneration",
            {"topics": {"topic": 3, "topic2": 3},
             "members": [member("consumer1", TT2, owned=tps("topic-0, topic-2, topic2-1"), generation=10),
                         member("consumer2", TT2, owned=tps("topic-0, topic-2, topic2-1"), generation=-1)]},
            {"consumer1": tps("topic-0, topic-2, topic2-1"), "consumer2": tps("topic-1, topic2-0, topic2-2")})
sticky_both("same_generation_double_claim", "testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSameGeneration",
            {"topics": {"topic": 3},
             "members": [member("consumer1", ["topic"], owned=tps("topic-0, topic-1"), generation=G),
                         member("consumer2", ["topic"], owned=tps("topic-0, topic-2"), generation=G),
                         member("consumer3", ["topic"], owned=[], generation=G)]},
            {"consumer1": tps("topic-1"), "consumer2": tps("topic-2"), "consumer3": tps("topic-0")},
            transferring={"consumer3": tps("topic-0")})
TTT = ["topic", "topic2", "topic3"]
sticky_both("highest_generation_wins", "testEnsurePartitionsAssignedToHighestGeneration",
            {"topics": {"topic": 3, "topic2": 3, "topic3": 3},
             "members": [member("consumer1", TTT, owned=tps("topic-0, topic2-0, topic3-0"), generation=10),
                         member("consumer2", TTT, owned=tps("topic-1, topic2-1, topic3-1"), generation=9),
                         member("consumer3", TTT, owned=tps("topic2-1, topic3-0, topic3-2"), generation=8)]},
            {"consumer1": tps("topic-0, topic2-0, topic3-0"), "consumer2": tps("topic-1, topic2-1, topic3-1"),
             "consumer3": tps("topic-2, topic2-2, topic3-2")})
sticky_both("multiple_generations", "testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration",
            {"topics": {"topic": 3, "topic2": 3},
             "members": [member("consumer1", TT2, owned=tps("topic-0, topic2-1, topic-1"), generation=10),
                         member("consumer2", TT2, owned=tps("topic-0, topic2-1, topic2-2"), generation=8)]},
            {"consumer1": tps("topic-0, topic2-1, topic-1"), "consumer2": tps("topic-2, topic2-2, topic2-0")})
# StickyAssignorTest / CooperativeStickyAssignorTest: the same-generation double claim with equal shares.
EQ = {"topics": {"topic": 3},
      "members": [member("consumer1", ["topic"], owned=tps("topic-0, topic-1"), generation=G),
                  member("consumer2", ["topic"], owned=tps("topic-0, topic-2"), generation=G),
                  member("consumer3", ["topic"], owned=[], generation=G)]}
NAME_EQ = "testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer"
case("sticky", "double_claim_equal_shares", "StickyAssignorTest." + NAME_EQ, EQ,
     {"consumer1": tps("topic-1"), "consumer2": tps("topic-2"), "consumer3": tps("topic-0")})
case("cooperative-sticky", "double_claim_equal_shares", "CooperativeStickyAssignorTest." + NAME_EQ, EQ,
     {"consumer1": tps("topic-1"), "consumer2": tps("topic-2"), "consumer3": []},
     "topic-0 is withheld until both claimants have revoked it")

# AbstractStickyAssignorTest.testRackAwareAssignmentWithUniformSubscription (calls with
# preferRackAwareLogic=false; that switch is a test-only hook).
SR = {"t1": 6, "t2": 7, "t3": 2}
SR_EXP = ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"]
for k, (rf, b, c) in enumerate([(3, null_racks(3), racks(3)), (3, racks(3), null_racks(3)), (3, racks(3), racks(3)),
                                (3, racks(3), ["d", "e", "f"]), (3, racks(3), [None, "e", "f"]),
                                (1, racks(3), racks(3)), (2, racks(3), racks(3)), (3, racks(2), racks(3))]):
    for strategy, cls in [("sticky", "StickyAssignorTest"), ("cooperative-sticky", "CooperativeStickyAssignorTest")]:
        c_ = rack_case(cls + " (inherited " + A + "testRackAwareAssignmentWithUniformSubscription)",
                       SR, rf, b, c, [ALL3] * 3, SR_EXP)
        add(strategy, "rack_uniform_subscription_%d" % k, c_)
add("sticky", "rack_uniform_subscription_misaligned_owned",
    rack_case("StickyAssignorTest (inherited " + A + "testRackAwareAssignmentWithUniformSubscription)",
              SR, 1, racks(3), racks(3), [ALL3] * 3, SR_EXP,
              owned=["t1-0, t1-1, t1-2, t1-3, t1-4", "t1-5, t2-0, t2-1, t2-2, t2-3", "t2-4, t2-5, t2-6, t3-0, t3-1"]))

# ---------------------------------------------------------------------------------------------
# server-range (group-coordinator/src/test/java/org/apache/kafka/coordinator/group/assignor/
# RangeAssignorTest.java). At 1eb7644 the server range assignor is not sticky: KAFKA-16944
# (apache/kafka#16504, July 2024) made it recompute the ranges every time, ordering static members
# first by instance id. These six restate the older, sticky-era text of the file, limited to
# assertions both versions share.
SRT = "RangeAssignorTest (server)."
case("server-range", "two_members_same_subscriptions", SRT + "testFirstAssignmentTwoConsumersTwoTopicsSameSubscriptions",
     {"topics": {"topic1": 3, "topic3": 2},
      "members": [member("A", ["topic1", "topic3"]), member("B", ["topic1", "topic3"])]},
     {"A": tps("topic1-0, topic1-1, topic3-0"), "B": tps("topic1-2, topic3-1")})
case("server-range", "three_members_different_subscriptions", SRT + "testFirstAssignmentThreeConsumersThreeTopicsDifferentSubscriptions",
     {"topics": {"topic1": 3, "topic2": 3, "topic3": 2},
      "members": [member("A", ["topic1", "topic2"]), member("B", ["topic3"]), member("C", ["topic2", "topic3"])]},
     {"A": tps("topic1-0, topic1-1, topic1-2, topic2-0, topic2-1"), "B": tps("topic3-0"),
      "C": tps("topic2-2, topic3-1")})
case("server-range", "more_members_than_partitions", SRT + "testFirstAssignmentNumConsumersGreaterThanNumPartitions",
     {"topics": {"topic1": 3, "topic3": 2},
      "members": [member(m, ["topic1", "topic3"]) for m in "ABC"]},
     {"A": tps("topic1-0, topic3-0"), "B": tps("topic1-1, topic3-1"), "C": tps("topic1-2")})
case("server-range", "partition_added", SRT + "testReassignmentWhenOnePartitionAddedForTwoConsumersTwoTopics",
     {"topics": {"topic1": 4, "topic2": 4},
      "members": [member("A", ["topic1", "topic2"], owned=tps("topic1-0, topic1-1, topic2-0, topic2-1")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-2, topic2-2"))]},
     {"A": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "B": tps("topic1-2, topic1-3, topic2-2, topic2-3")})
case("server-range", "member_removed", SRT + "testReassignmentWhenOneConsumerRemovedAfterInitialAssignmentWithTwoConsumersTwoTopics",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("B", ["topic1", "topic2"], owned=tps("topic1-2, topic2-2"))]},
     {"B": tps("topic1-0, topic1-1, topic1-2, topic2-0, topic2-1, topic2-2")})
case("server-range", "nonexistent_topic", SRT + "testOneConsumerSubscribedToNonExistentTopic",
     {"topics": {"topic1": 3}, "members": [member("A", ["topic2"])]}, None)
CASES["server-range"][-1][1]["expected_error"] = "does not exist"

# The same file after KAFKA-16944 (the non-sticky rewrite, before 1eb7644), as stored in the index
# (a later version; its rack-aware tests, added after 1eb7644, are not ported). Members are named
# memberA.. but keyed "A", "B", "C"; a member's current assignment is ignored by this assignor.
T12_ = ["topic1", "topic2"]
case("server-range", "one_member_no_topic", SRT + "testOneMemberNoTopic",
     {"topics": {}, "members": [member("A", [])]}, {"A": []})
case("server-range", "member_added_more_members_than_partitions",
     SRT + "testReassignmentNumMembersGreaterThanNumPartitionsWhenOneMemberAdded",
     {"topics": {"topic1": 2, "topic2": 2},
      "members": [member("A", T12_, owned=tps("topic1-0, topic2-0")),
                  member("B", T12_, owned=tps("topic1-1, topic2-1")), member("C", T12_)]},
     {"A": tps("topic1-0, topic2-0"), "B": tps("topic1-1, topic2-1"), "C": []})
case("server-range", "member_added", SRT + "testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("A", T12_, owned=tps("topic1-0, topic1-1, topic2-0, topic2-1")),
                  member("B", T12_, owned=tps("topic1-2, topic2-2")), member("C", T12_)]},
     {"A": tps("topic1-0, topic2-0"), "B": tps("topic1-1, topic2-1"), "C": tps("topic1-2, topic2-2")},
     "not sticky: A and B give up partitions they kept under the old sticky range assignor")
case("server-range", "member_and_partition_added",
     SRT + "testReassignmentWhenOneMemberAddedAndOnePartitionAfterInitialAssignmentWithTwoMembersTwoTopics",
     {"topics": {"topic1": 4, "topic2": 3},
      "members": [member("A", T12_, owned=tps("topic1-0, topic1-1, topic2-0, topic2-1")),
                  member("B", T12_, owned=tps("topic1-2, topic2-2")), member("C", ["topic1"])]},
     {"A": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "B": tps("topic1-2, topic2-2"), "C": tps("topic1-3")})
case("server-range", "subscriptions_changed",
     SRT + "testReassignmentWhenMultipleSubscriptionsRemovedAfterInitialAssignmentWithThreeMembersTwoTopics",
     {"topics": {"topic1": 3, "topic2": 3, "topic3": 2},
      "members": [member("A", ["topic1"], owned=tps("topic1-0, topic1-1, topic1-2, topic2-0")),
                  member("B", ["topic1", "topic2", "topic3"], owned=tps("topic2-1")),
                  member("C", ["topic2"], owned=tps("topic2-2, topic3-0, topic3-1"))]},
     {"A": tps("topic1-0, topic1-1"), "B": tps("topic1-2, topic2-0, topic2-1, topic3-0, topic3-1"),
      "C": tps("topic2-2")})
# testStaticMembership / testMixedStaticMembership assert that a static member rejoining under a
# new member id keeps its partitions: the second round must equal the first. The first round is
# the plain range split (members ordered A, B / A, C, B); the second renames A to memberA1, which
# sorts after B and C by member id but first by instance id.
case("server-range", "static_member_rejoins", SRT + "testStaticMembership",
     {"topics": {"topic1": 3},
      "members": [member("B", ["topic1"], instance="instanceB"),
                  member("memberA1", ["topic1"], instance="instanceA")]},
     {"memberA1": tps("topic1-0, topic1-1"), "B": tps("topic1-2")},
     "second round; expected is the first round's assignment, which the test asserts is unchanged")
case("server-range", "mixed_static_member_rejoins", SRT + "testMixedStaticMembership",
     {"topics": {"topic1": 5},
      "members": [member("B", ["topic1"]), member("C", ["topic1"], instance="instanceC"),
                  member("memberA1", ["topic1"], instance="instanceA")]},
     {"memberA1": tps("topic1-0, topic1-1"), "C": tps("topic1-2, topic1-3"), "B": tps("topic1-4")},
     "second round; static members first by instance id, then B; the test asserts every member "
     "keeps its first-round partitions")
for slug, name, rack in [("no_rack_info", "testNoRackAwareAssignmentWhenNoRackInfo", [None, None]),
                         ("no_partition_racks", "testNoRackAwareAssignmentWhenNoPartitionRackInfo",
                          ["rack0", "rack1"])]:
    inp = {"topics": {"topic1": 3, "topic2": 3},
           "members": [member("A", T12_, rack=rack[0]), member("B", T12_, rack=rack[1])]}
    if rack[0] is None:
        # MetadataImageBuilder.addRacks: partition i has replicas on brokers i, i+1 (rack0..rack3).
        inp["partition_racks"] = {t: [["rack%d" % i, "rack%d" % ((i + 1) % 4)] for i in range(3)]
                                  for t in T12_}
    case("server-range", slug, SRT + name, inp,
         {"A": tps("topic1-0, topic1-1, topic2-0, topic2-1"), "B": tps("topic1-2, topic2-2")},
         "added after 1eb7644 with rack-aware range; without partition racks it is the plain range")

# ---------------------------------------------------------------------------------------------
# uniform (group-coordinator/src/test/java/org/apache/kafka/coordinator/group/assignor/
# UniformHomogeneousAssignmentBuilderTest.java). Members A, B, C iterate in that order both in the
# test's TreeMap and in a Java HashMap. The cases below keep the test's topic names where the
# outcome does not depend on topic-id hash order; further down, two more rename the topics so that
# it does. Not ported: testReassignmentWhenPartitionsAreAddedForTwoMembersTwoTopics (its
# expectation was rewritten by KAFKA-16864 and again by KAFKA-18688 after 1eb7644, and the index
# holds neither the 1eb7644 text nor that diff), testValidityAndBalanceForLargeSampleSet (random
# topic ids, balance only) and the CommonAssignorTests (added later).
UH = "UniformHomogeneousAssignmentBuilderTest."
case("uniform", "one_member_no_subscription", UH + "testOneMemberNoTopicSubscription",
     {"topics": {"topic1": 3}, "members": [member("A", [])]}, {"A": []})
case("uniform", "nonexistent_topic", UH + "testOneMemberSubscribedToNonexistentTopic",
     {"topics": {"topic1": 3}, "members": [member("A", ["topic2"])]}, None)
CASES["uniform"][-1][1]["expected_error"] = "does not exist"
case("uniform", "unbalanced_previous_assignment", UH + "testReassignmentForTwoMembersTwoTopicsGivenUnbalancedPrevAssignment",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("A", ["topic1", "topic2"], owned=tps("topic1-0, topic1-1, topic2-0, topic2-1")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-2, topic2-2"))]},
     {"A": tps("topic1-0, topic1-1, topic2-0"), "B": tps("topic1-2, topic2-1, topic2-2")})
case("uniform", "member_added", UH + "testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics",
     {"topics": {"topic1": 3, "topic2": 3},
      "members": [member("A", ["topic1", "topic2"], owned=tps("topic1-0, topic1-2, topic2-0")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-1, topic2-1, topic2-2")),
                  member("C", ["topic1", "topic2"])]},
     {"A": tps("topic1-0, topic1-2"), "B": tps("topic1-1, topic2-1"), "C": tps("topic2-0, topic2-2")})
case("uniform", "subscription_removed", UH + "testReassignmentWhenOneSubscriptionRemovedAfterInitialAssignmentWithTwoMembersTwoTopics",
     {"topics": {"topic1": 2, "topic2": 2},
      "members": [member("A", ["topic2"], owned=tps("topic1-0, topic2-0")),
                  member("B", ["topic2"], owned=tps("topic1-1, topic2-1"))]},
     {"A": tps("topic2-0"), "B": tps("topic2-1")})

# The homogeneous builder walks the subscribed topic ids in `HashSet<Uuid>` order. The test's ids
# are fixed (Uuid.fromString), so that order is fixed too; where a case depends on it, each topic
# is renamed "bNN-topicK", NN being its id's bucket in a 16-bucket table, so that ascending names
# walk the topics as Kafka does.
TEST_TOPIC_IDS = {"topic1": "T1-A4s3VTwiI5CTbEp6POw", "topic2": "T2-B4s3VTwiI5YHbPp6YUe",
                  "topic3": "T3-CU8fVTLCz5YMkLoDQsa", "topic4": "T4-Tw9fVTLCz5HbPp6YQsa"}


def uuid_bucket(text, buckets=16):
    """HashMap bucket of org.apache.kafka.common.Uuid.fromString(text): Uuid.hashCode is
    (int) (hilo >> 32) ^ (int) hilo with hilo = msb ^ lsb; HashMap spreads it as h ^ (h >>> 16)."""
    raw = base64.urlsafe_b64decode(text + "==")
    hilo = int.from_bytes(raw[:8], "big") ^ int.from_bytes(raw[8:], "big")
    h = ((hilo >> 32) ^ hilo) & 0xFFFFFFFF
    return (h ^ (h >> 16)) & (buckets - 1)


def by_hash(topic):
    return "b%02d-%s" % (uuid_bucket(TEST_TOPIC_IDS[topic]), topic)


def hashed(text):
    """tps() with every topic renamed by by_hash."""
    return sorted([by_hash(t), p] for t, p in tps(text))


# Order check: topic2, topic4, topic3, topic1 (buckets 1, 5, 9, 10).
assert sorted(TEST_TOPIC_IDS, key=by_hash) == ["topic2", "topic4", "topic3", "topic1"]

case("uniform", "first_assignment_hash_order", UH + "testFirstAssignmentTwoMembersTwoTopicsNoMemberRacks",
     {"topics": {by_hash("topic1"): 3, by_hash("topic3"): 2},
      "members": [member(m, [by_hash("topic1"), by_hash("topic3")]) for m in "AB"]},
     {"A": hashed("topic1-0, topic3-0, topic3-1"), "B": hashed("topic1-1, topic1-2")},
     "expected as set by KAFKA-16864 (apache/kafka#16088), in force at 1eb7644; KAFKA-18688 "
     "(2025) changed it. Topic ids walk topic3 then topic1; A, met first, gets the extra partition")
case("uniform", "member_removed_hash_order", UH + "testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithThreeMembersTwoTopics",
     {"topics": {by_hash("topic1"): 3, by_hash("topic2"): 3},
      "members": [member("A", [by_hash("topic1"), by_hash("topic2")], owned=hashed("topic1-0, topic2-0")),
                  member("B", [by_hash("topic1"), by_hash("topic2")], owned=hashed("topic1-1, topic2-1"))]},
     {"A": hashed("topic1-0, topic2-0, topic2-2"), "B": hashed("topic1-1, topic1-2, topic2-1")},
     "the free partitions go out in topic-id order: topic2-2 to A, then topic1-2 to B")
case("uniform", "more_members_than_partitions", UH + "testFirstAssignmentNumMembersGreaterThanTotalNumPartitions",
     {"topics": {"topic3": 2}, "members": [member(m, ["topic3"]) for m in "ABC"]},
     {"A": tps("topic3-0"), "B": tps("topic3-1"), "C": []},
     "expected as in the file before KAFKA-16864 (OptimizedUniformAssignmentBuilderTest, stored at "
     "09c11e5); one topic, so only member order matters and the builders agree; KAFKA-18688 (2025) "
     "moved the spare member to A")

# UniformHeterogeneousAssignmentBuilderTest, the version after KAFKA-17710 (the builder rework in
# 1eb7644; its TestGroupSpecImpl hands members to the assignor sorted by id). Ties between topics
# go to the lower topic id; the test's ids order as their names do, so names are kept.
UHT = "UniformHeterogeneousAssignmentBuilderTest."
T13 = ["topic1", "topic3"]
case("uniform", "het_no_subscription", UHT + "testTwoMembersNoTopicSubscription",
     {"topics": {"topic1": 3}, "members": [member("A", []), member("B", [])]}, {"A": [], "B": []})
case("uniform", "het_nonexistent_topics", UHT + "testTwoMembersSubscribedToNonexistentTopics",
     {"topics": {"topic1": 3}, "members": [member("A", ["topic3"]), member("B", ["topic2"])]}, None)
CASES["uniform"][-1][1]["expected_error"] = "does not exist"
case("uniform", "het_first_assignment", UHT + "testFirstAssignmentTwoMembersTwoTopics",
     {"topics": {"topic1": 3, "topic3": 6},
      "members": [member("A", T13), member("B", ["topic3"])]},
     {"A": tps("topic1-0, topic1-1, topic1-2, topic3-4"), "B": tps("topic3-0, topic3-1, topic3-2, topic3-3, topic3-5")})
case("uniform", "het_more_members_than_partitions", UHT + "testFirstAssignmentNumMembersGreaterThanTotalNumPartitions",
     {"topics": {"topic3": 1, "topic1": 2},
      "members": [member("A", ["topic3"]), member("B", ["topic3"]), member("C", ["topic1"])]},
     {"A": tps("topic3-0"), "B": [], "C": tps("topic1-0, topic1-1")})
case("uniform", "het_unbalanced_previous_assignment", UHT + "testReassignmentForTwoMembersThreeTopicsGivenUnbalancedPrevAssignment",
     {"topics": {"topic1": 6, "topic2": 4, "topic3": 4},
      "members": [member("A", ["topic1"], owned=tps("topic1-0, topic1-1, topic1-2")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-3, topic2-0")),
                  member("C", ["topic1", "topic2", "topic3"],
                         owned=tps("topic1-4, topic1-5, topic2-1, topic2-2, topic2-3, "
                                   "topic3-0, topic3-1, topic3-2, topic3-3"))]},
     {"A": tps("topic1-0, topic1-1, topic1-2, topic1-5"), "B": tps("topic1-3, topic2-0, topic2-1, topic2-2, topic2-3"),
      "C": tps("topic1-4, topic3-0, topic3-1, topic3-2, topic3-3")})
case("uniform", "het_partitions_added", UHT + "testReassignmentWhenPartitionsAreAddedForTwoMembers",
     {"topics": {"topic1": 6, "topic2": 5, "topic3": 3, "topic4": 3},
      "members": [member("A", T13, owned=tps("topic1-0, topic1-1, topic1-2, topic1-3, topic3-0, topic3-1")),
                  member("B", ["topic1", "topic2", "topic3", "topic4"],
                         owned=tps("topic2-0, topic2-1, topic2-2, topic4-0, topic4-1, topic4-2"))]},
     {"A": tps("topic1-0, topic1-1, topic1-2, topic1-3, topic1-4, topic1-5, topic3-0, topic3-1, topic3-2"),
      "B": tps("topic2-0, topic2-1, topic2-2, topic2-3, topic2-4, topic4-0, topic4-1, topic4-2")})
case("uniform", "het_member_and_partitions_added", UHT + "testReassignmentWhenOneMemberAddedAndPartitionsAddedTwoMembersTwoTopics",
     {"topics": {"topic1": 6, "topic2": 7},
      "members": [member("A", ["topic1"], owned=tps("topic1-0, topic1-2, topic2-0")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-1, topic2-1, topic2-2")),
                  member("C", ["topic1", "topic2"])]},
     {"A": tps("topic1-0, topic1-2, topic1-3, topic1-4, topic1-5"), "B": tps("topic1-1, topic2-1, topic2-2, topic2-6"),
      "C": tps("topic2-0, topic2-3, topic2-4, topic2-5")})
case("uniform", "het_member_removed", UHT + "testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithThreeMembersThreeTopics",
     {"topics": {"topic1": 3, "topic2": 8, "topic3": 3},
      "members": [member("A", T13, owned=tps("topic1-0, topic1-1, topic1-2, topic3-0, topic3-1")),
                  member("B", ["topic2"], owned=tps("topic2-3, topic2-4, topic2-5, topic2-6"))]},
     {"A": tps("topic1-0, topic1-1, topic1-2, topic3-0, topic3-1, topic3-2"),
      "B": tps("topic2-0, topic2-1, topic2-2, topic2-3, topic2-4, topic2-5, topic2-6, topic2-7")})
case("uniform", "het_subscription_removed", UHT + "testReassignmentWhenOneSubscriptionRemovedAfterInitialAssignmentWithTwoMembersTwoTopics",
     {"topics": {"topic1": 3, "topic2": 5},
      "members": [member("A", ["topic1"], owned=tps("topic1-0, topic1-2, topic2-1, topic2-3")),
                  member("B", ["topic1", "topic2"], owned=tps("topic1-1, topic2-0, topic2-2, topic2-4"))]},
     {"A": tps("topic1-0, topic1-1, topic1-2"), "B": tps("topic2-0, topic2-1, topic2-2, topic2-3, topic2-4")})
case("uniform", "het_member_without_subscription", UHT + "testFirstAssignmentWithTwoMembersIncludingOneWithoutSubscriptions",
     {"topics": {"topic1": 3}, "members": [member("A", ["topic1"]), member("B", [])]},
     {"A": tps("topic1-0, topic1-1, topic1-2"), "B": []})

if __name__ == "__main__":
    write()
