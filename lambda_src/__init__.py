"""The payment runtime: one package per Lambda function, plus `common`, which every function's archive carries.

Archives keep this layout (`lambda_src/<function>/…` and `lambda_src/common/…` at the zip root), so Lambda
imports `lambda_src.<function>.handler` exactly as the tests do. Only the standard library and boto3 are
imported; everything else is a relative import inside `lambda_src`.
"""
