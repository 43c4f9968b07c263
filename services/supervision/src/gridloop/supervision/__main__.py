from gridloop.shared.service import serve
from gridloop.supervision.app import SupervisionSettings, create_app

if __name__ == "__main__":
    serve(create_app, SupervisionSettings())
