//! Kafka's error codes, by their exact names (`org.apache.kafka.common.protocol.Errors`).
//!
//! Only the errors the simulated protocol can return are listed. Names are printed exactly as Kafka
//! prints them (`NOT_LEADER_OR_FOLLOWER`), because scripts and reports compare them as strings.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $name:literal, $code:literal;)*) => {
        /// A Kafka error code. `None` is Kafka's `NONE` (success).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            /// Kafka's name for the error, e.g. `REBALANCE_IN_PROGRESS`.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }
            /// Kafka's numeric code (the wire value).
            pub fn code(self) -> i16 {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            /// Looks an error up by Kafka's name.
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name { $($name => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    None = "NONE", 0;
    UnknownServerError = "UNKNOWN_SERVER_ERROR", -1;
    OffsetOutOfRange = "OFFSET_OUT_OF_RANGE", 1;
    UnknownTopicOrPartition = "UNKNOWN_TOPIC_OR_PARTITION", 3;
    LeaderNotAvailable = "LEADER_NOT_AVAILABLE", 5;
    NotLeaderOrFollower = "NOT_LEADER_OR_FOLLOWER", 6;
    RequestTimedOut = "REQUEST_TIMED_OUT", 7;
    OffsetMetadataTooLarge = "OFFSET_METADATA_TOO_LARGE", 12;
    NetworkException = "NETWORK_EXCEPTION", 13;
    CoordinatorLoadInProgress = "COORDINATOR_LOAD_IN_PROGRESS", 14;
    CoordinatorNotAvailable = "COORDINATOR_NOT_AVAILABLE", 15;
    NotCoordinator = "NOT_COORDINATOR", 16;
    NotEnoughReplicas = "NOT_ENOUGH_REPLICAS", 19;
    NotEnoughReplicasAfterAppend = "NOT_ENOUGH_REPLICAS_AFTER_APPEND", 20;
    IllegalGeneration = "ILLEGAL_GENERATION", 22;
    InconsistentGroupProtocol = "INCONSISTENT_GROUP_PROTOCOL", 23;
    InvalidGroupId = "INVALID_GROUP_ID", 24;
    UnknownMemberId = "UNKNOWN_MEMBER_ID", 25;
    InvalidSessionTimeout = "INVALID_SESSION_TIMEOUT", 26;
    RebalanceInProgress = "REBALANCE_IN_PROGRESS", 27;
    InvalidCommitOffsetSize = "INVALID_COMMIT_OFFSET_SIZE", 28;
    InvalidRequest = "INVALID_REQUEST", 42;
    StaleControllerEpoch = "STALE_CONTROLLER_EPOCH", 11;
    NonEmptyGroup = "NON_EMPTY_GROUP", 68;
    GroupIdNotFound = "GROUP_ID_NOT_FOUND", 69;
    FencedLeaderEpoch = "FENCED_LEADER_EPOCH", 74;
    UnknownLeaderEpoch = "UNKNOWN_LEADER_EPOCH", 75;
    OffsetNotAvailable = "OFFSET_NOT_AVAILABLE", 78;
    MemberIdRequired = "MEMBER_ID_REQUIRED", 79;
    GroupMaxSizeReached = "GROUP_MAX_SIZE_REACHED", 81;
    FencedInstanceId = "FENCED_INSTANCE_ID", 82;
    UnstableOffsetCommit = "UNSTABLE_OFFSET_COMMIT", 88;
    GroupSubscribedToTopic = "GROUP_SUBSCRIBED_TO_TOPIC", 86;
    InvalidUpdateVersion = "INVALID_UPDATE_VERSION", 95;
    IneligibleReplica = "INELIGIBLE_REPLICA", 107;
    UnsupportedAssignor = "UNSUPPORTED_ASSIGNOR", 112;
    StaleMemberEpoch = "STALE_MEMBER_EPOCH", 113;
    FencedMemberEpoch = "FENCED_MEMBER_EPOCH", 110;
    UnreleasedInstanceId = "UNRELEASED_INSTANCE_ID", 111;
    StaleBrokerEpoch = "STALE_BROKER_EPOCH", 77;
    MessageTooLarge = "MESSAGE_TOO_LARGE", 10;
    RecordListTooLarge = "RECORD_LIST_TOO_LARGE", 18;
    KafkaStorageError = "KAFKA_STORAGE_ERROR", 56;
}

impl ErrorCode {
    pub fn is_ok(self) -> bool {
        self == ErrorCode::None
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in [
            ErrorCode::None,
            ErrorCode::NotLeaderOrFollower,
            ErrorCode::FencedInstanceId,
        ] {
            assert_eq!(ErrorCode::from_name(e.name()), Some(e));
        }
        assert_eq!(ErrorCode::RebalanceInProgress.code(), 27);
        assert_eq!(ErrorCode::from_name("NOT_A_KAFKA_ERROR"), None);
    }
}
