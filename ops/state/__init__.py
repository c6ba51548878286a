"""What lives in the state bucket and lock table: Terraform state, deploy records, the traffic split, locks."""
