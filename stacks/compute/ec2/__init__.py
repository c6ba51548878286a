"""The ec2 runtime's API tier: the processor's artifact and bucket, launch template, instance profile, fleet,
load balancer and their alarms."""
