import mistakes_lib.client

print mistakes_lib.client
