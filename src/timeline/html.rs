//! The page around the SVGs: inline CSS, the legend, the details panel and a small inline script
//! (zoom, axis ticks, click-for-details). Nothing is fetched: the file must open offline.

use super::model::Timeline;
use super::svg::{broker_colour, member_colour, secs};
use std::fmt::Write;

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
body{font:13px system-ui,sans-serif;margin:8px;color:#222}
h1{font-size:17px;margin:4px 0}
.sub{color:#555;margin-bottom:6px}
#bar button{margin-right:4px}
#wrap{display:flex;max-height:78vh;overflow-y:auto;border:1px solid #ccc}
#names{flex:none;background:#fafafa;border-right:1px solid #ccc}
#scroll{overflow-x:auto;flex:1}
text{font-size:11px}
.sec{font-weight:bold}
.lane{fill:#333}
.tick line{stroke:#ccc}
.tick text{fill:#555}
.st-empty{fill:#bbb}.st-prep{fill:#f0a030}.st-comp{fill:#f5d742}.st-stable{fill:#5cb85c}
.st-dead{fill:#333}.st-other{fill:#999}
.f-crash{fill:#d9534f}.f-part{fill:#337ab7}.f-slow{fill:#9b59b6}.f-net{fill:#17a2b8}.f-note{fill:#666}
.shade{opacity:.12;pointer-events:none}
.shade.f-note{opacity:.5}
.fault{opacity:.55}
.flabel,.genlabel,.olabel,.llabel{pointer-events:none;font-size:10px}
.olabel{fill:#fff}
.llabel{fill:#333}
.genlabel{font-weight:bold;fill:#000}
.gen{stroke:#000;stroke-dasharray:3 2;stroke-width:1.2;vector-effect:non-scaling-stroke}
.commit{stroke:#111;stroke-width:1;vector-effect:non-scaling-stroke}
.commit.bad{stroke:#d00;stroke-width:2}
.trunc{stroke:#e67e22;stroke-width:2;vector-effect:non-scaling-stroke}
.hw{fill:none;stroke:#1a1a1a;stroke-width:1.3;vector-effect:non-scaling-stroke}
.leo{fill:none;stroke:#777;stroke-dasharray:2 2;stroke-width:1;vector-effect:non-scaling-stroke}
.vline{stroke:#e00;stroke-width:1.5;vector-effect:non-scaling-stroke;pointer-events:none}
.viol circle{fill:#e00;stroke:#700}.vlabel{fill:#c00;font-weight:bold;pointer-events:none}
.sel{outline:2px solid #000;stroke:#000;stroke-width:2}
#details{margin-top:6px;padding:6px;border:1px solid #ccc;background:#ffe;min-height:2.5em;white-space:pre-wrap;font-family:monospace}
#legend span.sw{display:inline-block;width:12px;height:12px;margin:0 3px 0 10px;vertical-align:middle;border:1px solid #0003}
#legend div{margin:2px 0}
"#;

const JS: &str = r#"
(function(){
  var k=1, base=+document.getElementById('chart').dataset.basew, end=+document.getElementById('chart').dataset.endus;
  var chart=document.getElementById('chart'), plot=document.getElementById('plot'), axis=document.getElementById('axis');
  var NS=chart.namespaceURI, H=+chart.getAttribute('height');
  function drawAxis(){
    while(axis.firstChild)axis.removeChild(axis.firstChild);
    var steps=[1e5,2e5,5e5,1e6,2e6,5e6,1e7,2e7,3e7,6e7,12e7,3e8,6e8,12e8], w=base*k, step=steps[steps.length-1];
    for(var i=0;i<steps.length;i++){if(steps[i]/end*w>=70){step=steps[i];break;}}
    for(var t=0;t<=end;t+=step){
      var x=t/end*w, g=document.createElementNS(NS,'g'); g.setAttribute('class','tick');
      var l=document.createElementNS(NS,'line'); l.setAttribute('x1',x);l.setAttribute('x2',x);l.setAttribute('y1',14);l.setAttribute('y2',H);
      var tx=document.createElementNS(NS,'text'); tx.setAttribute('x',x+2);tx.setAttribute('y',12);tx.textContent=(t/1e6)+'s';
      g.appendChild(l);g.appendChild(tx);axis.appendChild(g);
    }
  }
  function zoom(nk){
    k=Math.max(0.25,Math.min(256,nk));
    chart.setAttribute('width',base*k+40);
    plot.setAttribute('transform','scale('+k+',1)');
    document.querySelectorAll('#overlay [data-x]').forEach(function(e){
      var x=+e.dataset.x*k;
      if(e.tagName==='g'){e.setAttribute('transform','translate('+x+',0)');}
      else{e.setAttribute('x',x+(e.classList.contains('vlabel')?7:2));}
      if(e.dataset.w!==undefined){e.style.display=(+e.dataset.w*k<e.textContent.length*5.5+4)?'none':'';}
    });
    document.getElementById('zoomlevel').textContent='zoom ×'+k;
    drawAxis();
  }
  document.getElementById('zin').onclick=function(){zoom(k*2);};
  document.getElementById('zout').onclick=function(){zoom(k/2);};
  document.getElementById('zfit').onclick=function(){zoom(1);};
  var sel=null;
  document.addEventListener('click',function(ev){
    var e=ev.target;
    while(e&&e.nodeType===1){
      var t=null;
      for(var i=0;i<e.children.length;i++){if(e.children[i].tagName==='title'){t=e.children[i];}}
      if(t){
        if(sel)sel.classList.remove('sel');
        sel=e;e.classList.add('sel');
        document.getElementById('details').textContent=t.textContent;
        return;
      }
      e=e.parentNode;
    }
  });
  zoom(1);
  document.body.dataset.rendered='1';
})();
"#;

/// The whole page. `names`, `chart` are complete SVG elements.
pub fn page(t: &Timeline, title: &str, subtitle: &str, names: &str, chart: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1><div class=\"sub\">{}</div>\n\
         <div id=\"bar\"><button id=\"zin\">zoom in</button><button id=\"zout\">zoom out</button>\
         <button id=\"zfit\">fit</button> <span id=\"zoomlevel\">zoom ×1 (script not run)</span> \
         — hover any shape for details, click to pin them below</div>\n\
         <div id=\"wrap\">{names}<div id=\"scroll\">{chart}</div></div>\n\
         <div id=\"details\">Click a band, marker or tick for its details.</div>\n{}\
         <script>{JS}</script></body></html>\n",
        esc(title),
        esc(title),
        esc(subtitle),
        legend(t)
    );
    out
}

fn legend(t: &Timeline) -> String {
    let mut out = String::from("<div id=\"legend\"><div><b>members</b>");
    for (i, (m, node)) in t.members.iter().enumerate() {
        let _ = write!(
            out,
            "<span class=\"sw\" style=\"background:{}\"></span>{} ({node})",
            member_colour(i),
            esc(m)
        );
    }
    if t.members.is_empty() {
        out.push_str(" (no group members in this run)");
    }
    out.push_str("</div><div><b>partition leaders</b>");
    let mut brokers: Vec<u32> = t
        .partitions
        .values()
        .flat_map(|p| p.states.iter().filter_map(|s| s.what.0.leader))
        .collect();
    brokers.sort_unstable();
    brokers.dedup();
    for b in brokers {
        let _ = write!(
            out,
            "<span class=\"sw\" style=\"background:{}\"></span>b{b}",
            broker_colour(b)
        );
    }
    out.push_str(
        " &nbsp; solid line: high watermark, dashed: log end offset, orange tick: truncation</div>\
         <div><b>group state</b><span class=\"sw\" style=\"background:#bbb\"></span>Empty\
         <span class=\"sw\" style=\"background:#f0a030\"></span>PreparingRebalance\
         <span class=\"sw\" style=\"background:#f5d742\"></span>CompletingRebalance\
         <span class=\"sw\" style=\"background:#5cb85c\"></span>Stable \
         &nbsp; dashed black line: new generation; black tick: commit, red tick: failed commit</div>\
         <div><b>faults</b><span class=\"sw\" style=\"background:#d9534f\"></span>crash\
         <span class=\"sw\" style=\"background:#337ab7\"></span>network partition\
         <span class=\"sw\" style=\"background:#9b59b6\"></span>pause / slow / slow poll\
         <span class=\"sw\" style=\"background:#17a2b8\"></span>drop / delay\
         <span class=\"sw\" style=\"background:#e00\"></span>checker violation</div>",
    );
    let _ = writeln!(
        out,
        "<div>simulated time 0 – {}</div></div>",
        secs(t.end_us)
    );
    out
}
