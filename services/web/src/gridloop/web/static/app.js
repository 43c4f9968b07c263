// The grid worker's app: file reports (also without signal), follow them, verify and rate; and the
// resident's: submit needs, follow them, confirm and rate what a unit delivered.
import { get, set } from '/app/vendor/idb-keyval/index.js';
import {
  api, ApiError, currentSession, expired, finishSignOut, isReachable, loadSession, NetworkError, onReachabilityChange,
  onSessionChange, signOut,
} from './api.js';
import { gridAt } from './geo.js';
import * as outbox from './outbox.js';
import { shrink } from './photos.js';

const main = document.getElementById('main');
let map = null; // the report form's Leaflet map, while the form is shown
// The names of states, steps and ratings, and the limits of a report (the fewest characters of a
// description, the most photos), have one home: the server, which serves them as /app/labels.json.
// The service worker keeps the last copy, so they are there without signal too; without any copy
// a code shows as it is and the server's own checks still refuse what breaks a limit.
let labels = { ticket_status: {}, event: {}, rating: {}, limits: {} };
async function loadLabels() {
  try {
    const response = await fetch('/app/labels.json');
    if (response.ok) labels = await response.json();
  } catch { /* no signal and no copy kept: codes as they are */ }
}
const statusName = (code) => labels.ticket_status?.[code] || code;
const stepName = (code) => labels.event?.[code] || code;
const textMin = () => labels.limits?.text_min ?? 1;
const photosMax = () => labels.limits?.photos_max ?? Infinity;
// Where intake's refusals belong on the form.
const FIELD_OF = {
  unknown_category: 'category', outside_grids: 'location', unknown_grid: 'location', outside_your_area: 'location',
  unknown_street: 'location', unknown_photos: 'photos', too_large: 'photos', not_an_image: 'photos', empty_file: 'photos',
};

// Every value put into markup is escaped, except markup this file built itself and marked raw().
class Raw { constructor(html) { this.html = html; } }
const raw = (html) => new Raw(html);
const h = (strings, ...values) => strings.reduce((out, s, i) => out + s + (i < values.length ? escape(values[i]) : ''), '');
function escape(value) {
  if (value instanceof Raw) return value.html;
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
// Leaflet renders a string tooltip as HTML; a name typed in the directory goes in as text.
function label(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}
const chinese = (message) => String(message || '').replace(/\s*\([^()]*\)\s*$/, '');
const when = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }) : '');

// Each change of address starts a new screen. A view that waited (for the network, for the
// phone's storage) draws only if its screen is still the one shown: otherwise a slow first load
// could replace a form the worker has already begun to fill in.
let screen = 0;
const stale = (here) => here !== screen;

// Result screens (filed, saved, submitted) get an address of their own, so every link to the form
// (the menu, "继续上报") is a real change of address; reloading one shows the form again.
function show(html, title, address) {
  if (address) history.replaceState(null, '', address);
  if (map) { map.stop(); map.remove(); map = null; }
  main.innerHTML = html;
  document.title = `${title} · 网格闭环`;
  const tab = location.hash.split('/')[1] || 'new';
  document.querySelectorAll('.tabs a').forEach((a) => {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
}

function problem(err) {
  if (err instanceof NetworkError) return '无网络，稍后再试。';
  if (err instanceof ApiError && err.status === 401) return '登录已过期，请重新登录。';
  return chinese(err.message) || '出错了，请稍后再试。';
}

// Reference data the form needs offline: kept from the last time there was signal.
async function reference(name, path) {
  try {
    const page = await api(path);
    await set(`ref:${name}`, page.items);
    return page.items;
  } catch (err) {
    const kept = await get(`ref:${name}`);
    if (kept) return kept;
    throw err;
  }
}

// ---------------------------------------------------------------- file a report

async function viewNew(refused) {
  const here = screen;
  let categories = [];
  let grids = [];
  try {
    [categories, grids] = await Promise.all([reference('categories', '/v1/directory/categories'), reference('grids', '/v1/directory/grids')]);
  } catch (err) {
    if (stale(here)) return;
    show(h`<h2>上报问题</h2><p class="error" role="alert">无法加载问题类别：${problem(err)}</p>`, '上报问题');
    return;
  }
  if (stale(here)) return;
  const families = [['component', '部件'], ['event', '事件']];
  const options = (filter) => families.map(([family, label]) => {
    const items = categories.filter((c) => c.family === family && (!filter || `${c.code}${c.name}${c.major?.name || ''}`.includes(filter)));
    return items.length ? `<optgroup label="${label}">${items.map((c) => h`<option value="${c.code}">${c.name}（${c.major?.name || ''} ${c.code}）</option>`).join('')}</optgroup>` : '';
  }).join('');
  const draft = refused?.report;
  show(h`
    <h2>上报问题</h2>
    <form id="report" aria-label="上报问题" novalidate>
      <div class="field">
        <label for="category-search">搜索类别</label>
        <input id="category-search" type="search" placeholder="如：井盖、垃圾、占道" autocomplete="off">
        <label for="category">问题类别（部件 / 事件）</label>
        <select id="category" name="category_code" size="6" required aria-describedby="category-error">${raw(options(''))}</select>
        <p class="field-error" id="category-error" role="alert"></p>
      </div>
      <div class="field">
        <label for="description">问题描述</label>
        <textarea id="description" name="description" rows="3" maxlength="2000" required aria-describedby="description-error">${draft?.description || ''}</textarea>
        <p class="field-error" id="description-error" role="alert"></p>
      </div>
      <fieldset class="field">
        <legend>位置</legend>
        <button type="button" id="locate" class="secondary">使用当前定位</button>
        <p id="accuracy" class="hint" aria-live="polite"></p>
        <div id="map" class="map" role="application" aria-label="网格地图：点击地图放置位置"></div>
        <p class="hint">也可在地图上点击放置位置。</p>
        <p id="grid-name" class="grid-name" aria-live="polite"></p>
        <label for="address">地址（选填）</label>
        <input id="address" name="address" maxlength="300" value="${draft?.address || ''}" aria-describedby="location-error">
        <p class="field-error" id="location-error" role="alert"></p>
      </fieldset>
      <fieldset class="field">
        <legend>照片</legend>
        <label class="button secondary" for="camera">拍照</label>
        <input id="camera" class="visually-hidden" type="file" accept="image/*" capture="environment">
        <label class="button secondary" for="album">从相册选择</label>
        <input id="album" class="visually-hidden" type="file" accept="image/*" multiple>
        <ul id="thumbs" class="thumbs" aria-label="已选照片"></ul>
        <p class="field-error" id="photos-error" role="alert"></p>
      </fieldset>
      <div class="field">
        <input id="urgent" type="checkbox" name="urgent"> <label for="urgent" class="inline">紧急</label>
      </div>
      <p class="form-error" id="form-error" role="alert"></p>
      <button type="submit" class="primary">提交上报</button>
    </form>`, '上报问题');

  const form = document.getElementById('report');
  const select = document.getElementById('category');
  if (draft) select.value = draft.category_code;
  document.getElementById('category-search').addEventListener('input', (e) => {
    const chosen = select.value;
    select.innerHTML = options(e.target.value.trim());
    select.value = chosen;
  });

  let point = draft?.location ? [draft.location.lon, draft.location.lat] : null;
  const photos = [];
  const gridName = document.getElementById('grid-name');
  let marker = null;
  const place = (lonlat) => {
    point = lonlat;
    const grid = gridAt(lonlat, grids);
    gridName.textContent = grid ? `所在网格：${grid.name}（${grid.code}）` : '该位置不在任何网格内';
    if (map) {
      const latlng = [lonlat[1], lonlat[0]];
      marker = marker ? marker.setLatLng(latlng) : window.L.marker(latlng, { title: '上报位置', alt: '上报位置' }).addTo(map);
    }
  };
  drawMap(grids, (lonlat) => { document.getElementById('accuracy').textContent = ''; place(lonlat); });
  if (point) place(point);

  document.getElementById('locate').addEventListener('click', () => {
    const accuracy = document.getElementById('accuracy');
    if (!navigator.geolocation) { accuracy.textContent = '此设备不支持定位，请在地图上点击放置位置。'; return; }
    accuracy.textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition((pos) => {
      accuracy.textContent = `已定位，精度约 ±${Math.round(pos.coords.accuracy)} 米`;
      place([pos.coords.longitude, pos.coords.latitude]);
      if (map) map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 16), { animate: false });
    }, (err) => {
      accuracy.textContent = `无法定位（${err.code === 1 ? '未允许定位' : '信号弱'}），请在地图上点击放置位置。`;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  });

  const thumbs = document.getElementById('thumbs');
  const drawThumbs = () => {
    thumbs.innerHTML = photos.map((p, i) => h`<li><img src="${p.url}" alt="照片 ${i + 1}"><button type="button" class="small" data-remove="${i}">删除照片 ${i + 1}</button></li>`).join('');
  };
  thumbs.addEventListener('click', (e) => {
    const i = e.target.dataset.remove;
    if (i !== undefined) { URL.revokeObjectURL(photos[i].url); photos.splice(Number(i), 1); drawThumbs(); }
  });
  for (const id of ['camera', 'album']) {
    document.getElementById(id).addEventListener('change', async (e) => {
      const errorBox = document.getElementById('photos-error');
      errorBox.textContent = '';
      for (const file of e.target.files) {
        if (photos.length >= photosMax()) { errorBox.textContent = `最多 ${photosMax()} 张照片`; break; }
        try {
          const { blob } = await shrink(file);
          photos.push({ blob, url: URL.createObjectURL(blob) });
        } catch {
          errorBox.textContent = `无法读取图片 ${file.name}`;
        }
      }
      e.target.value = '';
      drawThumbs();
    });
  }
  if (refused) showRefusal(refused.refused);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const report = {
      category_code: select.value,
      description: document.getElementById('description').value.trim(),
      address: document.getElementById('address').value.trim(),
      priority: document.getElementById('urgent').checked ? 'urgent' : 'normal',
    };
    if (point) report.location = { lon: point[0], lat: point[1] };
    let bad = false;
    if (!report.category_code) { fieldError('category', '请选择问题类别'); bad = true; }
    if (report.description.length < textMin()) { fieldError('description', `请填写问题描述（至少 ${textMin()} 个字）`); bad = true; }
    if (!point) { fieldError('location', '请定位或在地图上点击放置位置'); bad = true; }
    if (bad) return;
    const saved = refused ? await outbox.correct(refused.id, report) : await outbox.save(report, photos.map((p) => p.blob));
    form.querySelector('button[type=submit]').disabled = true;
    const outcome = navigator.onLine ? await outbox.flush() : null; // tries; no signal leaves it waiting
    const filed = outcome?.filed.find((f) => f.draft.id === saved.id);
    const rejected = outcome?.refused.find((d) => d.id === saved.id);
    if (stale(here)) return; // the worker has moved on; the queue bar shows where the report stands
    if (filed) { await receipt(filed.ticket); return; }
    if (rejected) { refused = rejected; form.querySelector('button[type=submit]').disabled = false; showRefusal(rejected.refused); return; }
    show(h`<h2>已保存在本机</h2><p class="ok" role="status">暂时无法发送，这条上报已保存在本机，有网络时会自动发送。</p>
      <p><a class="button" href="#/outbox">查看待发送</a> <a class="button secondary" href="#/new">继续上报</a></p>`, '已保存', '#/new/saved');
  });
}

function drawMap(grids, onPick) {
  if (map) { map.stop(); map.remove(); map = null; }
  if (!window.L) return;
  // No animations: they cost a phone's battery, and a map removed mid-animation throws.
  map = window.L.map('map', { attributionControl: true, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false });
  const tiles = main.dataset.tileUrl;
  if (tiles) window.L.tileLayer(tiles, { attribution: main.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  const layer = window.L.geoJSON(grids.map((g) => ({ type: 'Feature', geometry: g.geometry, properties: { name: g.name } })), {
    style: { color: '#0b5394', weight: 2, fillOpacity: 0.08 },
    onEachFeature: (feature, shape) => shape.bindTooltip(label(feature.properties.name)),
  });
  // The view first: Leaflet cannot draw vector layers on a map without one.
  if (grids.length) map.fitBounds(layer.getBounds()); else map.setView([30.2, 120.1], 13);
  layer.addTo(map);
  const pick = (e) => onPick([Number(e.latlng.lng.toFixed(6)), Number(e.latlng.lat.toFixed(6))]);
  map.on('click', pick);
  layer.on('click', pick);
}

function clearErrors() {
  document.querySelectorAll('.field-error, .form-error').forEach((el) => { el.textContent = ''; });
  document.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
}

function fieldError(field, message) {
  const box = document.getElementById(`${field}-error`) || document.getElementById('form-error');
  box.textContent = message;
  const input = { category: 'category', description: 'description', location: 'address' }[field];
  if (input) document.getElementById(input).setAttribute('aria-invalid', 'true');
}

function showRefusal(refusal) {
  if (refusal.code === 'validation_error' && Array.isArray(refusal.details)) {
    for (const d of refusal.details) {
      const field = { category_code: 'category', description: 'description', location: 'location', photos: 'photos', address: 'location' }[d.loc?.[1]];
      fieldError(field || 'form', `${field === 'description' ? '问题描述' : '内容'}不合法：${d.msg}`);
    }
    return;
  }
  fieldError(FIELD_OF[refusal.code] || 'form', chinese(refusal.message));
}

async function receipt(ticket) {
  const duplicates = await Promise.all((ticket.possible_duplicates || []).map(async (id) => {
    try { const other = await api(`/v1/reports/${id}`); return { id, label: `${other.ticket_number}（${statusName(other.status)}）` }; } catch { return { id, label: '另一工单' }; }
  }));
  show(h`<h2>上报成功</h2>
    <div class="card" role="status">
      <p>工单编号 <strong>${ticket.ticket_number}</strong></p>
      <p>${ticket.category_name} · ${statusName(ticket.status)}</p>
    </div>
    ${raw(duplicates.length ? h`<p class="warning" role="alert">附近已有同类未办结工单，可能重复：${raw(duplicates.map((d) => h`<a href="#/report/${d.id}">${d.label}</a>`).join('、'))}。街道会核实，如重复将合并。</p>` : '')}
    <p><a class="button" href="#/report/${ticket.ticket_id}">查看进展</a> <a class="button secondary" href="#/new">继续上报</a></p>`, '上报成功', '#/new/filed');
}

// ---------------------------------------------------------------- outbox
async function viewOutbox() {
  const here = screen;
  const drafts = await outbox.list();
  const others = await outbox.othersWaiting();
  if (stale(here)) return;
  show(h`<h2>待发送</h2>
    ${raw(drafts.length ? '' : '<p class="note">没有待发送的上报。</p>')}
    ${raw(others ? h`<p class="note">${othersNote(others)}</p>` : '')}
    <ul class="list">${raw(drafts.map((d) => h`<li class="card">
      <p><strong>${d.report.category_code}</strong> · ${d.report.description}</p>
      <p class="hint">保存于 ${when(d.created_at)} · ${d.photos.length} 张照片</p>
      ${raw(d.refused ? h`<p class="error">未能上报：${chinese(d.refused.message)}</p>
        <p><a class="button small" href="#/fix/${d.id}">修改后重新提交</a> <button type="button" class="small secondary" data-discard="${d.id}">放弃这条</button></p>` : '<p class="hint">等待发送</p>')}
    </li>`).join(''))}</ul>
    ${raw(drafts.some((d) => !d.refused) ? '<button type="button" class="primary" id="flush">立即发送</button>' : '')}`, '待发送');
  main.querySelector('#flush')?.addEventListener('click', () => sendNow());
  main.querySelectorAll('[data-discard]').forEach((b) => b.addEventListener('click', async () => {
    if (confirm('确定放弃这条上报？')) { await outbox.remove(b.dataset.discard); viewOutbox(); }
  }));
}

async function viewFix(id) {
  const draft = (await outbox.list()).find((d) => d.id === id);
  if (!draft) { location.hash = '#/outbox'; return; }
  await viewNew(draft);
}

async function sendNow() {
  if (expired()) return;
  const outcome = await outbox.flush();
  if (outcome.refused.length || (location.hash.startsWith('#/outbox'))) viewOutbox();
  return outcome;
}

// ---------------------------------------------------------------- my reports
async function viewMine() {
  const here = screen;
  let items;
  let kept = false;
  try {
    items = (await api('/v1/reports?mine=true&limit=50')).items;
    await set('mine', items);
  } catch (err) {
    items = await get('mine');
    kept = true;
    if (stale(here)) return;
    if (!items) { show(h`<h2>我的上报</h2><p class="error" role="alert">${problem(err)}</p>`, '我的上报'); return; }
  }
  if (stale(here)) return;
  show(h`<h2>我的上报</h2>
    ${raw(kept ? '<p class="note">无网络：显示的是上次同步的内容。</p>' : '')}
    ${raw(items.length ? '' : '<p class="note">还没有上报。</p>')}
    <ul class="list">${raw(items.map((t) => h`<li><a class="card link" href="#/report/${t.ticket_id}">
      <span class="status s-${t.status}">${statusName(t.status)}</span>
      <strong>${t.ticket_number}</strong> ${t.category_name}
      <span class="hint">${when(t.created_at)}</span></a></li>`).join(''))}</ul>`, '我的上报');
}

async function photoList(ids) {
  const urls = await Promise.all(ids.map(async (id) => {
    try { return URL.createObjectURL(await api(`/v1/attachments/${id}`)); } catch { return null; }
  }));
  return urls.map((url, i) => (url ? h`<li><img src="${url}" alt="照片 ${i + 1}"></li>` : '')).join('');
}

async function viewReport(id) {
  const here = screen;
  let t;
  try { t = await api(`/v1/reports/${id}`); } catch (err) {
    if (stale(here)) return;
    show(h`<h2>工单</h2><p class="error" role="alert">${problem(err)}</p>`, '工单'); return;
  }
  if (stale(here)) return;
  show(h`<h2>${t.ticket_number}</h2>
    <div class="card">
      <p><span class="status s-${t.status}">${statusName(t.status)}</span> ${t.category_name}</p>
      <p>${t.description}</p>
      <p class="hint">网格 ${t.grid_code}${t.address ? ` · ${t.address}` : ''} · 上报于 ${when(t.created_at)}</p>
      ${raw(t.resolve_deadline ? h`<p>应办结时间：${when(t.resolve_deadline)}${t.resolve_deadline_provisional ? '（预计，节假日安排未发布）' : ''}</p>` : '')}
    </div>
    <h3>照片</h3><ul class="thumbs" id="photos" aria-label="照片">${raw(t.photos.length ? '' : '<li class="hint">无</li>')}</ul>
    <h3>进展</h3>
    <ol class="timeline" aria-label="进展">${raw(t.history.map((e) => h`<li><span>${stepName(e.event_type)}</span> → ${statusName(e.status)}<br><span class="hint">${when(e.at)}</span></li>`).join(''))}</ol>`, t.ticket_number);
  if (!t.photos.length) return;
  const photos = await photoList(t.photos);
  if (!stale(here)) document.getElementById('photos').innerHTML = photos;
}

// ---------------------------------------------------------------- verification and rating
async function departmentNames() {
  const departments = await reference('departments', '/v1/directory/departments').catch(() => []);
  return Object.fromEntries(departments.map((d) => [d.code, d.name]));
}

async function viewTasks() {
  const here = screen;
  let pending;
  let unrated;
  let names;
  try {
    // To rate: closed tickets (checked and passed, or closed when nobody checked in time) not yet rated.
    let passed;
    let expired;
    [pending, passed, expired, names] = await Promise.all([
      api('/v1/verifications?status=pending'), api('/v1/verifications?status=passed&rated=false'),
      api('/v1/verifications?status=expired&rated=false'), departmentNames(),
    ]);
    unrated = { items: [...passed.items, ...expired.items] };
  } catch (err) {
    if (stale(here)) return;
    show(h`<h2>核查评价</h2><p class="error" role="alert">${problem(err)}</p>`, '核查评价'); return;
  }
  if (stale(here)) return;
  const row = (v, action) => h`<li><a class="card link" href="#/task/${v.ticket_id}">
    <strong>${v.ticket_number}</strong> ${v.category_name}<br><span class="hint">${names[v.department] || v.department || ''} · ${action}${v.reworks ? ` · 已返工 ${v.reworks} 次` : ''}</span></a></li>`;
  show(h`<h2>核查评价</h2>
    <h3>待核查</h3>${raw(pending.items.length ? `<ul class="list">${pending.items.map((v) => row(v, '部门已办结，请到现场核查')).join('')}</ul>` : '<p class="note">没有待核查的工单。</p>')}
    <h3>待评价</h3>${raw(unrated.items.length ? `<ul class="list">${unrated.items.map((v) => row(v, '已结案，请评价')).join('')}</ul>` : '<p class="note">没有待评价的工单。</p>')}`, '核查评价');
}

async function viewTask(id) {
  const here = screen;
  let v = null;
  let names;
  try {
    // This worker's own task for the ticket (to verify, to rate, or done); none is 404.
    [v, names] = await Promise.all([
      api(`/v1/verifications/${encodeURIComponent(id)}`).catch((err) => {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }),
      departmentNames(),
    ]);
  } catch (err) {
    if (stale(here)) return;
    show(h`<h2>核查评价</h2><p class="error" role="alert">${problem(err)}</p>`, '核查评价'); return;
  }
  if (stale(here)) return;
  const verifying = v?.status === 'resolved';
  const rating = v?.status === 'closed' && !v.rating;
  if (!verifying && !rating) {
    show(h`<h2>核查评价</h2><p class="note">${v ? '该工单已核查并已评价。' : '没有该工单的核查评价任务。'}</p><p><a class="button" href="#/tasks">返回</a></p>`, '核查评价');
    return;
  }
  show(h`<h2>${v.ticket_number}</h2>
    <div class="card"><p>${v.category_name} · ${names[v.department] || v.department || ''}</p><p>${v.description}</p>
      ${raw(v.verification ? h`<p>处置说明：${v.verification.resolution_note}</p>` : '')}</div>
    <ul class="thumbs" id="evidence" aria-label="处置照片"></ul>
    ${raw(verifying ? h`<form id="verify" aria-label="现场核查" novalidate>
      <fieldset class="field"><legend>现场核查结果</legend>
        <input type="radio" id="pass" name="passed" value="true"> <label class="inline" for="pass">通过</label>
        <input type="radio" id="fail" name="passed" value="false"> <label class="inline" for="fail">未通过（返工）</label>
        <p class="field-error" id="passed-error" role="alert"></p></fieldset>
      <div class="field"><label for="comment">核查意见</label><textarea id="comment" rows="2" maxlength="1000" aria-describedby="comment-error"></textarea>
        <p class="field-error" id="comment-error" role="alert"></p></div>
      <fieldset class="field"><legend>现场照片</legend>
        <label class="button secondary" for="site-photo">拍照</label>
        <input id="site-photo" class="visually-hidden" type="file" accept="image/*" capture="environment" multiple>
        <ul id="site-thumbs" class="thumbs" aria-label="现场照片"></ul>
        <p class="field-error" id="site-photo-error" role="alert"></p></fieldset>
      <p class="form-error" id="form-error" role="alert"></p>
      <button type="submit" class="primary">提交核查</button></form>`
    : h`<form id="rate" aria-label="评价" novalidate><fieldset class="field"><legend>评价处置结果</legend>
        ${raw(Object.entries(labels.rating || {}).map(([value, label]) => h`<input type="radio" id="r-${value}" name="rating" value="${value}"> <label class="inline" for="r-${value}">${label}</label>`).join(' '))}
        <p class="field-error" id="rating-error" role="alert"></p></fieldset>
      <div class="field"><label for="rate-comment">评价意见（选填）</label><textarea id="rate-comment" rows="2" maxlength="1000"></textarea></div>
      <p class="form-error" id="form-error" role="alert"></p>
      <button type="submit" class="primary">提交评价</button></form>`)}`, '核查评价');
  if (v.verification?.resolution_photos?.length) {
    const evidence = await photoList(v.verification.resolution_photos);
    if (stale(here)) return;
    document.getElementById('evidence').innerHTML = evidence;
  }
  if (verifying) {
    const taken = [];
    document.getElementById('site-photo').addEventListener('change', async (e) => {
      for (const file of e.target.files) {
        if (taken.length >= photosMax()) { document.getElementById('site-photo-error').textContent = `最多 ${photosMax()} 张照片`; break; }
        const { blob } = await shrink(file);
        taken.push({ blob, id: crypto.randomUUID(), url: URL.createObjectURL(blob) });
      }
      document.getElementById('site-thumbs').innerHTML = taken.map((p, i) => h`<li><img src="${p.url}" alt="现场照片 ${i + 1}"></li>`).join('');
    });
    document.getElementById('verify').addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors();
      const choice = main.querySelector('input[name=passed]:checked');
      if (!choice) { fieldError('passed', '请选择核查结果'); return; }
      const comment = document.getElementById('comment').value.trim();
      if (choice.value === 'false' && comment.length < textMin()) { fieldError('comment', `未通过时请写明原因（至少 ${textMin()} 个字）`); return; }
      try {
        const photos = [];
        for (const p of taken) {
          const form = new FormData();
          form.append('file', p.blob, `${p.id}.jpg`);
          photos.push((await api('/v1/attachments', { method: 'POST', form, headers: { 'Idempotency-Key': p.id } })).attachment_id);
        }
        await api(`/v1/verifications/${id}`, { method: 'POST', json: { passed: choice.value === 'true', comment, photos } });
        if (stale(here)) return;
        show(h`<h2>核查已提交</h2><p class="ok" role="status">${choice.value === 'true' ? '核查通过，工单已结案。' : '核查未通过，工单已退回部门返工。'}</p><p><a class="button" href="#/tasks">返回核查评价</a></p>`, '核查已提交', '#/tasks/done');
      } catch (err) { fieldError('form', problem(err)); }
    });
  } else {
    document.getElementById('rate').addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors();
      const choice = main.querySelector('input[name=rating]:checked');
      if (!choice) { fieldError('rating', '请选择评价'); return; }
      try {
        await api(`/v1/ratings/${id}`, { method: 'POST', json: { rating: choice.value, comment: document.getElementById('rate-comment').value.trim() } });
        if (stale(here)) return;
        show('<h2>评价已提交</h2><p class="ok" role="status">感谢评价。</p><p><a class="button" href="#/tasks">返回核查评价</a></p>', '评价已提交', '#/tasks/done');
      } catch (err) { fieldError('form', problem(err)); }
    });
  }
}

// ---------------------------------------------------------------- notifications
async function refreshUnread() {
  try {
    const page = await api('/v1/notifications');
    const unread = page.items.filter((n) => !n.read).length;
    document.getElementById('unread-count').textContent = unread ? `${unread}` : '';
    return page.items;
  } catch { return null; }
}

async function viewNotifications() {
  const here = screen;
  const items = await refreshUnread();
  if (stale(here)) return;
  if (!items) { show('<h2>通知</h2><p class="error" role="alert">无网络或登录已过期，稍后再试。</p>', '通知'); return; }
  show(h`<h2>通知</h2>${raw(items.length ? '' : '<p class="note">没有通知。</p>')}
    <ul class="list">${raw(items.map((n) => h`<li class="card ${n.read ? '' : 'unread'}">
      <p>${raw(n.read ? '' : '<span class="badge">未读</span> ')}<a href="#/report/${n.ticket_id}">${n.ticket_number}</a> ${n.text}</p>
      <p class="hint">${when(n.at)}</p>
      ${raw(n.read ? '' : h`<button type="button" class="small secondary" data-read="${n.notification_id}">标为已读</button>`)}</li>`).join(''))}</ul>`, '通知');
  main.querySelectorAll('[data-read]').forEach((b) => b.addEventListener('click', async () => {
    await api(`/v1/notifications/${b.dataset.read}/read`, { method: 'POST' }).catch(() => null);
    viewNotifications();
  }));
}

// ---------------------------------------------------------------- the resident's needs (我的需求)
// A resident submits a need (微心愿, a service, an idea for a project) for the community to review,
// follows it, and confirms and rates it once a unit has delivered. Online only: what a household
// asks for is sent at once or not at all, and the screen says so (the form keeps what was typed).
const needStatusName = (code) => labels.need_status?.[code] || code;
const needKindName = (code) => labels.need_kind?.[code] || code;
const NEED_FIELD = { kind: 'kind', category_code: 'need-category', description: 'need-description', grid_code: 'need-grid' };
const RESIDENT_OFFLINE = '当前无网络。提交需求和评价需要网络，请有网络时再试；已填写的内容仍保留在此页面。';

async function viewNeeds() {
  const here = screen;
  let items;
  let kept = false;
  try {
    items = (await api('/v1/cobuild/needs?limit=50')).items;
    await set('needs', items);
  } catch (err) {
    items = await get('needs');
    kept = true;
    if (stale(here)) return;
    if (!items) { show(h`<h2>我的需求</h2><p class="error" role="alert">${problem(err)}</p>`, '我的需求'); return; }
  }
  if (stale(here)) return;
  show(h`<h2>我的需求</h2>
    <p><a class="button" href="#/need-new">提交新需求</a></p>
    ${raw(kept ? '<p class="note">无网络：显示的是上次同步的内容。</p>' : '')}
    ${raw(items.length ? '' : '<p class="note">还没有提交过需求。</p>')}
    <ul class="list">${raw(items.map((n) => h`<li><a class="card link" href="#/need/${n.id}">
      <span class="status s-${n.status}">${needStatusName(n.status)}</span>
      <strong>${n.need_number}</strong> ${needKindName(n.kind)}
      ${raw(n.status === 'delivered' ? '<span class="badge">待确认</span>' : '')}
      <span class="hint">${when(n.created_at)}</span></a></li>`).join(''))}</ul>`, '我的需求');
}

async function viewNeedForm() {
  const here = screen;
  let categories;
  let grids;
  try {
    [categories, grids] = await Promise.all([
      reference('need_categories', '/v1/directory/need_categories'), reference('grids', '/v1/directory/grids'),
    ]);
  } catch (err) {
    if (stale(here)) return;
    show(h`<h2>提交需求</h2><p class="error" role="alert">无法加载需求类别：${problem(err)}</p>`, '提交需求');
    return;
  }
  if (stale(here)) return;
  const own = currentSession()?.user.org;
  const mine = grids.filter((g) => g.community === own);
  const kinds = Object.entries(labels.need_kind || {});
  show(h`<h2>提交需求</h2>
    <p class="hint">社区审核后，会把需求整理成不含您姓名、电话和地址的公开摘要，发布给驻区单位认领。</p>
    <form id="need" aria-label="提交需求" novalidate>
      <fieldset class="field" id="kind" aria-describedby="kind-error"><legend>需求类型</legend>
        ${raw(kinds.map(([code, name], i) => h`<input type="radio" id="kind-${code}" name="kind" value="${code}"${raw(i === 0 ? ' checked' : '')}> <label class="inline" for="kind-${code}">${name}</label>`).join(' '))}
        <p class="field-error" id="kind-error" role="alert"></p></fieldset>
      <div class="field">
        <label for="need-category">需求类别</label>
        <select id="need-category" name="category_code" required aria-describedby="need-category-error">
          <option value="">请选择</option>${raw(categories.map((c) => h`<option value="${c.code}">${c.name}</option>`).join(''))}</select>
        <p class="field-error" id="need-category-error" role="alert"></p>
      </div>
      <div class="field">
        <label for="need-description">需求内容</label>
        <p class="hint" id="need-description-hint">需要什么帮助、什么时间方便（${textMin()}～500 字）。</p>
        <textarea id="need-description" name="description" rows="4" maxlength="500" required aria-describedby="need-description-hint need-description-error"></textarea>
        <p class="field-error" id="need-description-error" role="alert"></p>
      </div>
      <div class="field">
        <label for="need-grid">所在网格</label>
        <select id="need-grid" name="grid_code" required aria-describedby="need-grid-error">
          ${raw(mine.length === 1 ? '' : '<option value="">请选择</option>')}${raw(mine.map((g) => h`<option value="${g.code}">${g.name}（${g.code}）</option>`).join(''))}</select>
        <p class="field-error" id="need-grid-error" role="alert"></p>
      </div>
      <p class="form-error" id="form-error" role="alert"></p>
      <button type="submit" class="primary">提交需求</button>
    </form>`, '提交需求');
  // One key per form: a second tap (or a retry after a lost answer) files the need once.
  const key = crypto.randomUUID();
  document.getElementById('need').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const form = e.target;
    const need = {
      kind: form.querySelector('input[name=kind]:checked')?.value,
      category_code: form.category_code.value,
      description: form.description.value.trim(),
      grid_code: form.grid_code.value,
    };
    const missing = [];
    if (!need.category_code) missing.push(['need-category', '请选择需求类别']);
    if (need.description.length < textMin()) missing.push(['need-description', `请填写需求内容（至少 ${textMin()} 个字）`]);
    if (!need.grid_code) missing.push(['need-grid', '请选择所在网格']);
    if (missing.length) { missing.forEach(([field, message]) => needError(field, message)); return; }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const filed = await api('/v1/cobuild/needs', { method: 'POST', json: need, headers: { 'Idempotency-Key': key } });
      if (stale(here)) return;
      show(h`<h2>需求已提交</h2>
        <div class="card" role="status"><p>需求编号 <strong>${filed.need_number}</strong></p>
          <p>${needKindName(filed.kind)} · ${needStatusName(filed.status)}</p>
          <p class="hint">社区将在 3 个工作日内审核。</p></div>
        <p><a class="button" href="#/need/${filed.id}">查看进展</a> <a class="button secondary" href="#/needs">我的需求</a></p>`, '需求已提交', '#/need-new/filed');
    } catch (err) {
      button.disabled = false;
      if (err instanceof NetworkError) { needError('form', RESIDENT_OFFLINE); return; }
      if (err instanceof ApiError && err.code === 'validation_error' && Array.isArray(err.details)) {
        err.details.forEach((d) => needError(NEED_FIELD[d.loc?.[d.loc.length - 1]] || 'form', `请检查此项：${chinese(d.msg)}`));
        return;
      }
      needError('form', problem(err));
    }
  });
}

function needError(field, message) {
  const box = document.getElementById(`${field}-error`) || document.getElementById('form-error');
  box.textContent = message;
  const input = document.getElementById(field);
  if (input && input.tagName !== 'FIELDSET') input.setAttribute('aria-invalid', 'true');
}

async function viewNeed(id) {
  const here = screen;
  let n;
  try { n = await api(`/v1/cobuild/needs/${encodeURIComponent(id)}`); } catch (err) {
    if (stale(here)) return;
    show(h`<h2>我的需求</h2><p class="error" role="alert">${problem(err)}</p><p><a class="button" href="#/needs">返回</a></p>`, '我的需求'); return;
  }
  if (stale(here)) return;
  // What the resident may do now is cobuild's answer, as for every caller.
  const allowed = n.allowed_actions || [];
  const confirming = allowed.includes('confirm');
  const rating = !confirming && allowed.includes('rate');
  const withdrawing = allowed.includes('withdraw');
  const ratings = Object.entries(labels.rating || {});
  show(h`<h2>${n.need_number}</h2>
    <div class="card">
      <p><span class="status s-${n.status}">${needStatusName(n.status)}</span> ${needKindName(n.kind)}</p>
      ${raw(n.description ? h`<p>${n.description}</p>` : '')}
      ${raw(n.summary ? h`<p class="hint">公开摘要：${n.summary}</p>` : '')}
      <p class="hint">网格 ${n.grid_code} · 提交于 ${when(n.created_at)}</p>
      ${raw(n.reject_reason ? h`<p class="warning">未通过审核：${n.reject_reason}</p>` : '')}
      ${raw(n.ticket_number ? h`<p>已转为案件 ${n.ticket_number}，由相关部门办理。</p>` : '')}
      ${raw(n.rating ? h`<p>您的评价：${labels.rating?.[n.rating] || n.rating}</p>` : '')}
    </div>
    ${raw(confirming || rating ? h`<form id="rate-need" aria-label="${confirming ? '确认并评价' : '评价'}" novalidate>
      ${raw(confirming ? '<p>认领单位已告知服务完成。请确认并评价；7 天内未确认的，将自动确认。</p>' : '')}
      <fieldset class="field" id="need-rating" aria-describedby="need-rating-error"><legend>评价</legend>
        ${raw(ratings.map(([value, label]) => h`<input type="radio" id="nr-${value}" name="rating" value="${value}"> <label class="inline" for="nr-${value}">${label}</label>`).join(' '))}
        <p class="field-error" id="need-rating-error" role="alert"></p></fieldset>
      <div class="field"><label for="need-comment">评价意见（选填）</label><textarea id="need-comment" rows="2" maxlength="500"></textarea></div>
      <p class="form-error" id="form-error" role="alert"></p>
      <button type="submit" class="primary">${confirming ? '确认完成并评价' : '提交评价'}</button></form>` : '')}
    ${raw(withdrawing ? h`<form id="withdraw-need" aria-label="撤回需求" novalidate>
      <div class="field"><label for="withdraw-reason">撤回原因</label><input id="withdraw-reason" maxlength="500" aria-describedby="withdraw-reason-error">
        <p class="field-error" id="withdraw-reason-error" role="alert"></p></div>
      <button type="submit" class="secondary">撤回需求</button></form>` : '')}
    <p><a class="button secondary" href="#/needs">返回我的需求</a></p>`, n.need_number);
  document.getElementById('withdraw-need')?.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const reason = document.getElementById('withdraw-reason').value.trim();
    if (reason.length < textMin()) { needError('withdraw-reason', `请写明撤回原因（至少 ${textMin()} 个字）`); return; }
    try {
      await api(`/v1/cobuild/needs/${encodeURIComponent(id)}/withdraw`, { method: 'POST', json: { reason } });
      if (!stale(here)) viewNeed(id);
    } catch (err) {
      needError('withdraw-reason', err instanceof NetworkError ? RESIDENT_OFFLINE : problem(err));
    }
  });
  if (!confirming && !rating) return;
  document.getElementById('rate-need').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors();
    const choice = main.querySelector('input[name=rating]:checked');
    if (!choice) { needError('need-rating', '请选择评价'); return; }
    try {
      if (confirming) await api(`/v1/cobuild/needs/${encodeURIComponent(id)}/confirm`, { method: 'POST', json: {} });
      await api(`/v1/cobuild/needs/${encodeURIComponent(id)}/rate`, {
        method: 'POST', json: { rating: choice.value, comment: document.getElementById('need-comment').value.trim() },
      });
      if (stale(here)) return;
      show(h`<h2>感谢评价</h2><p class="ok" role="status">需求 ${n.need_number} 已${confirming ? '确认完成并' : ''}评价。</p><p><a class="button" href="#/needs">返回我的需求</a></p>`, '感谢评价', '#/needs/rated');
    } catch (err) {
      needError('form', err instanceof NetworkError ? RESIDENT_OFFLINE : problem(err));
    }
  });
}

async function routeResident() {
  screen += 1;
  const [, view, arg] = location.hash.split('/');
  const views = { needs: viewNeeds, 'need-new': viewNeedForm, need: () => viewNeed(arg) };
  await (views[view] || views.needs)();
  main.focus({ preventScroll: true });
}

// The resident's app: their needs, on the same shell; the grid worker's menu and outbox stay hidden.
async function startResident(session) {
  await loadLabels();
  document.title = '我的需求 · 网格闭环';
  document.getElementById('worker-tabs').hidden = true;
  document.getElementById('resident-tabs').hidden = false;
  document.getElementById('offline').textContent = RESIDENT_OFFLINE;
  const drawResident = (s) => {
    document.getElementById('expired').hidden = Boolean(s) && !expired(s);
    document.getElementById('who').textContent = s ? `${s.user.name}` : '';
    document.getElementById('signout').hidden = !s;
  };
  onSessionChange(drawResident);
  drawResident(session);
  document.getElementById('signout').addEventListener('click', async () => {
    await signOut();
    location.replace('/signin');
  });
  drawNetwork();
  window.addEventListener('online', drawNetwork);
  window.addEventListener('offline', drawNetwork);
  onReachabilityChange(drawNetwork);
  window.addEventListener('hashchange', routeResident);
  document.getElementById('resident-tabs').addEventListener('click', (e) => {
    const link = e.target.closest('a');
    if (link && link.getAttribute('href') === location.hash) { e.preventDefault(); routeResident(); }
  });
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
  await routeResident();
}

// ---------------------------------------------------------------- shell
// Another worker's reports wait on this phone: how many, never what they say.
const othersNote = (n) => (currentSession()
  ? `本机另有 ${n} 条其他网格员的上报，待其本人登录后发送。`
  : `本机有 ${n} 条上报待发送，上报人登录后发送。`);

async function drawQueue(drafts) {
  const others = await outbox.othersWaiting();
  const waiting = drafts.filter((d) => !d.refused).length;
  const refused = drafts.length - waiting;
  document.getElementById('outbox-count').textContent = drafts.length ? `${drafts.length}` : '';
  const banner = document.getElementById('queue');
  banner.hidden = drafts.length === 0 && others === 0;
  const oldest = drafts[0] ? `，最早一条保存于 ${when(drafts[0].created_at)}` : '';
  const parts = [waiting ? `${waiting} 条上报待发送` : '', refused ? `${refused} 条需修改后重新提交` : ''].filter(Boolean);
  const own = parts.length ? `${parts.join('，')}${oldest}。` : '';
  document.getElementById('queue-text').textContent = `${own}${others ? othersNote(others) : ''}`;
  document.getElementById('send-now').hidden = waiting === 0;
}

// A session the server ended (a sign-out elsewhere, a copy of it refused) is gone here too: the
// banner asks for a new sign-in, and nothing more is sent under the old one.
function drawSession(session) {
  document.getElementById('expired').hidden = Boolean(session) && !expired(session);
  document.getElementById('who').textContent = session ? `${session.user.name}` : '';
  document.getElementById('signout').hidden = !session;
  if (!session) document.getElementById('unread-count').textContent = '';
  outbox.list().then(drawQueue);
}

function drawNetwork() { document.getElementById('offline').hidden = navigator.onLine && isReachable(); }

async function route() {
  screen += 1;
  const [, view, arg] = location.hash.split('/');
  const views = { new: () => viewNew(), outbox: viewOutbox, fix: () => viewFix(arg), mine: viewMine, report: () => viewReport(arg),
    tasks: viewTasks, task: () => viewTask(arg), notifications: viewNotifications };
  await (views[view] || views.new)();
  main.focus({ preventScroll: true });
}

async function start() {
  if (await finishSignOut()) { location.replace('/signin'); return; }
  const session = await loadSession();
  if (!session) { location.assign('/signin'); return; }
  if (session.user.role === 'resident') { await startResident(session); return; }
  if (session.user.role !== 'grid_worker') {
    show(h`<h2>网格员应用</h2><p class="note">此应用供网格员使用。您以 ${session.user.name} 登录。</p><form method="post" action="/signout"><button class="secondary">退出登录</button></form>`, '网格员应用');
    return;
  }
  await loadLabels();
  onSessionChange(drawSession);
  outbox.onOutboxChange(drawQueue);
  drawSession(session);
  // Replaced, not left behind: Back must not bring the signed-out person's page up again.
  document.getElementById('signout').addEventListener('click', async () => {
    await signOut();
    location.replace('/signin');
  });
  drawNetwork();
  drawQueue(await outbox.list());
  document.getElementById('send-now').addEventListener('click', () => sendNow());
  window.addEventListener('online', () => { drawNetwork(); sendNow(); refreshUnread(); });
  window.addEventListener('offline', drawNetwork);
  onReachabilityChange((now) => { drawNetwork(); if (now) sendNow(); });
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') sendNow(); });
  // While something waits or the server was out of reach, try again every 10 s (a probe when nothing waits).
  setInterval(async () => {
    if (!navigator.onLine || expired()) return;
    const waiting = (await outbox.list()).some((d) => !d.refused);
    if (waiting) sendNow(); else if (!isReachable()) refreshUnread();
  }, 10000);
  window.addEventListener('hashchange', route);
  // The menu entry of the screen already shown starts it afresh (a new form, a fresh list).
  document.getElementById('worker-tabs').addEventListener('click', (e) => {
    const link = e.target.closest('a');
    if (link && link.getAttribute('href') === location.hash) { e.preventDefault(); route(); }
  });
  if (navigator.storage?.persist) navigator.storage.persist();
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
  await route();
  refreshUnread();
  if (navigator.onLine) sendNow();
}

start();
