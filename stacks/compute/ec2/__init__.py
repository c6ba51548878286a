"""The EC2 service tier of `compute.runtime = "ec2"`: the fleet, its load balancer and their alarms."""
