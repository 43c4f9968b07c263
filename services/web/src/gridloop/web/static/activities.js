// 签到/签退: the phone's position is what the member sends; there is no typed fallback.
const form = document.querySelector('[data-presence]');
if (form) {
  const status = document.getElementById('position');
  const submit = document.getElementById('presence-submit');
  const lon = document.getElementById('lon');
  const lat = document.getElementById('lat');
  const refused = (message) => {
    status.textContent = message;
    submit.disabled = true;
  };
  if (!navigator.geolocation) {
    refused('此设备不支持定位，无法签到签退；请换用能定位的手机。');
  } else {
    navigator.geolocation.getCurrentPosition((pos) => {
      lon.value = String(pos.coords.longitude);
      lat.value = String(pos.coords.latitude);
      status.textContent = `已定位，精度约 ±${Math.round(pos.coords.accuracy)} 米`;
      submit.disabled = false;
    }, (err) => {
      refused(`无法定位（${err.code === 1 ? '未允许定位，请在浏览器设置中允许本站使用位置' : '信号弱，请到开阔处重试'}）`);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  }
}
