"""The inline CSS and JavaScript of the HTML report (no network references)."""

CSS = """
body{font-family:system-ui,sans-serif;margin:0;padding:12px 340px 12px 16px;color:#222;background:#fff}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:17px;margin:4px 0}h3{font-size:14px;margin:14px 0 6px}
.runs{display:grid;grid-auto-flow:column;grid-auto-columns:max-content;gap:16px;
 overflow-x:auto;align-items:start;padding-bottom:8px}
.run{border:1px solid #ccc;border-radius:6px;padding:10px;min-width:0;background:#fcfcfc;
 max-width:calc(100vw - 380px);box-sizing:border-box}
.policy{display:inline-block;background:#e1d5f5;border-radius:3px;padding:1px 6px;font-size:12px}
.diagram{overflow:auto;max-height:80vh;border:1px solid #ddd;background:#fff}
svg.sequence .arrow,svg.sequence .note{cursor:pointer}
svg.sequence .arrow:hover text,svg.sequence .selected text{fill:#06c;font-weight:bold}
svg.sequence .selected line{stroke:#06c}
.containment .bar{display:flex;height:14px;min-width:2px;margin:3px 0}.bars td{width:60vw}.legend{font-size:12px}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.pass{background:#dff3df;color:#175d17}td.fail{background:#f8dada;color:#8a1111}
pre{font-size:12px;background:#f7f7f7;padding:6px;overflow:auto;max-height:40vh;margin:4px 0;
 max-width:110ch;white-space:pre-wrap;word-break:break-all}
details{margin:2px 0 2px 10px;font-size:13px}summary{cursor:pointer}
.leaf{margin-left:22px;font-family:monospace;font-size:12px}
#panel{position:fixed;top:0;right:0;width:320px;height:100vh;overflow:auto;border-left:1px solid #ccc;
 background:#fafafa;padding:10px;box-sizing:border-box}
#panel pre{max-height:none;white-space:pre-wrap;word-break:break-all}
"""

JS = """
(function(){
  var panel=document.getElementById('panel-body'),title=document.getElementById('panel-title');
  var cache={};
  function events(svg){
    if(!cache[svg.id]){var s=document.getElementById(svg.id+'-events');
      cache[svg.id]=s?JSON.parse(s.textContent):{};}
    return cache[svg.id];
  }
  function show(g){
    var svg=g.closest('svg');if(!svg)return;
    var prev=document.querySelector('.selected');if(prev)prev.classList.remove('selected');
    g.classList.add('selected');
    var ev=events(svg)[g.getAttribute('data-event')],note=g.classList.contains('note');
    title.textContent=ev?((note?'log':ev.name)+' @ '+ev.component):'event';
    panel.textContent=(ev&&!note)?ev.text:(g.querySelector('title')||{}).textContent;
  }
  document.addEventListener('click',function(e){
    var g=e.target.closest&&e.target.closest('[data-event]');if(g)show(g);});
  document.addEventListener('keydown',function(e){
    if(e.key==='Enter'&&e.target.getAttribute&&e.target.getAttribute('data-event'))show(e.target);});
})();
"""
