from gridloop.shared.service import serve
from gridloop.web.app import WebSettings, create_app

if __name__ == "__main__":
    serve(create_app, WebSettings())
