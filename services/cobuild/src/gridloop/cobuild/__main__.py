from gridloop.cobuild.app import CobuildSettings, create_app
from gridloop.shared.service import serve

if __name__ == "__main__":
    serve(create_app, CobuildSettings())
