"""The network layer of one region: the VPC, its flow logs and security groups, and the cross-region peering."""
