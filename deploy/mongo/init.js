// Run once by mongo-init as root: the replica set (transactions need one), then the services'
// user, allowed to read and write GridLoop's databases and nothing else.
try {
  rs.status();
} catch (e) {
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
}
while (!db.hello().isWritablePrimary) {
  sleep(500);
}
const services = ["intake", "dispatch", "handling", "feedback", "supervision", "directory", "cobuild", "web"];
const roles = services.map((name) => ({ role: "readWrite", db: `gridloop_${name}` }));
const admin = db.getSiblingDB("admin");
if (admin.getUser("gridloop") === null) {
  admin.createUser({ user: "gridloop", pwd: process.env.MONGO_GRIDLOOP_PASSWORD, roles });
} else {
  admin.updateUser("gridloop", { pwd: process.env.MONGO_GRIDLOOP_PASSWORD, roles });
}
