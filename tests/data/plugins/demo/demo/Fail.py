print("about to fail")
raise Exception(message)
