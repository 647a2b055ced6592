from prometheus_client import Counter

users_registered = Counter("veza_users_registered_total", "Accounts created through the API.")
logins = Counter("veza_logins_total", "Login attempts by outcome.", ["outcome"])
