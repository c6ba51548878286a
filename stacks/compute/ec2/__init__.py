"""The ec2 runtime's API tier: the processor's artifact, its bucket, launch template, instance profile and fleet."""
