// Owners for librdkafka's C handles: one unique_ptr type per handle kind.
//
// Nothing else in Sluice calls rd_kafka_*_destroy. rd_kafka_new() takes
// ownership of its conf only when it succeeds, so callers release() the
// KafkaConf after a successful rd_kafka_new and keep owning it otherwise.
// Destroying a KafkaHandle of a consumer that was not closed first makes
// librdkafka close it implicitly (blocking); the worker closes explicitly.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>

namespace sluice::engine {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const {
    rd_kafka_message_destroy(message);
  }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
struct GroupListDeleter {
  void operator()(const rd_kafka_group_list* list) const {
    rd_kafka_group_list_destroy(list);
  }
};

struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};

// The mock cluster runs on threads of the rd_kafka_t passed to
// rd_kafka_mock_cluster_new: destroy the cluster before that handle.
struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};

using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;
using PartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using KafkaError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;
using KafkaEvent = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using AdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;
using NewTopic = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using GroupList = std::unique_ptr<const rd_kafka_group_list, GroupListDeleter>;
using GroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;
using MockCluster = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

}  // namespace sluice::engine
